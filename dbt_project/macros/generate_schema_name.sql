{#-
    Custom schemas are used as they are (staging, intermediate, marts, reference), not prefixed with the
    target schema: the warehouse has one fixed layout that the pipeline and the publish step read by name.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
