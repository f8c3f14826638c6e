{#-
    A deterministic md5 key over several columns (like dbt_utils.generate_surrogate_key, which is not
    available here): each value cast to text, nulls replaced by a marker, joined with a separator, so that
    ('a', null) and (null, 'a') give different keys.
-#}
{% macro surrogate_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(" ~ dbt.cast(column, dbt.type_string()) ~ ", '_null_')") -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
