{#-
    Continuous percentile (e.g. 0.5 = median) of a numeric expression, as an aggregate. dbt has no
    cross-database macro for it, so it dispatches: the SQL standard's ordered-set aggregate by default,
    DuckDB's quantile_cont, Spark/Databricks' percentile.
-#}
{% macro percentile_cont(expression, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'integration')(expression, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__percentile_cont(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{% macro spark__percentile_cont(expression, fraction) -%}
    percentile({{ expression }}, {{ fraction }})
{%- endmacro %}
