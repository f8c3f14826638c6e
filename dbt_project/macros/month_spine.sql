{#-
    One row per month, column `month` (a date, the first day of the month), from the month in
    `first_month_column` to the month in `last_month_column` of the one-row relation `bounds` (a CTE name).
    Plain SQL on every adapter: the month offsets 0..9999 are cross-joined digits, no generate_series and
    no query at compile time.
-#}
{% macro month_spine(bounds, first_month_column, last_month_column) -%}
    {%- set digits -%}
        (
            {%- for digit in range(10) %}
            select {{ digit }} as digit{% if not loop.last %} union all{% endif %}
            {%- endfor %}
        )
    {%- endset -%}
    select
        cast({{ dbt.dateadd('month', 'month_offsets.month_offset', 'bounds.' ~ first_month_column) }} as date)
            as month
    from {{ bounds }} as bounds
    cross join (
        select ones.digit + 10 * tens.digit + 100 * hundreds.digit + 1000 * thousands.digit as month_offset
        from {{ digits }} as ones
        cross join {{ digits }} as tens
        cross join {{ digits }} as hundreds
        cross join {{ digits }} as thousands
    ) as month_offsets
    where month_offsets.month_offset
        <= {{ dbt.datediff('bounds.' ~ first_month_column, 'bounds.' ~ last_month_column, 'month') }}
{%- endmacro %}
