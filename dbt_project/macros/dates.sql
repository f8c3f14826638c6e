{#- Date helpers on top of dbt's cross-database macros. -#}

{#- 'YYYY-MM' (a delivery month) -> the first day of that month, as a date. -#}
{% macro month_text_to_date(column) -%}
    cast({{ dbt.concat([column, "'-01'"]) }} as date)
{%- endmacro %}

{#- A year (integer) -> 1 January of that year, as a date. -#}
{% macro year_to_date(year_expression) -%}
    cast({{ dbt.concat([dbt.cast(year_expression, dbt.type_string()), "'-01-01'"]) }} as date)
{%- endmacro %}

{#- Last day of the month that starts at `month` (a date). -#}
{% macro month_end(month) -%}
    cast({{ dbt.last_day(month, 'month') }} as date)
{%- endmacro %}

{#- A date far in the future, standing in for "still open" in range comparisons. -#}
{% macro open_end_date() -%}
    cast('9999-12-31' as date)
{%- endmacro %}

{#- Calendar year of a date, as an integer (standard SQL extract; dbt has no date_part macro). -#}
{% macro year_of(date) -%}
    cast(extract(year from {{ date }}) as integer)
{%- endmacro %}

{#- A spell from `start` to `end` (null: still open) is open at the end of `day`: started on or before it
    and not ended by then (a spell ending on that day no longer counts). -#}
{% macro is_open_at(start, end, day) -%}
    {{ start }} <= {{ day }} and coalesce({{ end }}, {{ open_end_date() }}) > {{ day }}
{%- endmacro %}
