{#-
    Tables of models that no longer exist. dbt never drops a relation whose model was removed, so a
    warehouse built by older code would keep them: stale rows, with person keys, that no deletion
    workflow expects there to be (a deletion drops the derived schemas whole, so they would go then).
    on-run-start drops them; the list only grows. Like every project macro, this one is part of
    journey_code_version(): an entry added here makes the next build of the per-person models a full one.
-#}
{% macro retired_relations() -%}
    {{ return([
        ('intermediate', 'int_spells_at_month_end'),
        ('intermediate', 'int_events_unioned'),
    ]) }}
{%- endmacro %}

{% macro drop_retired_relations() -%}
    {%- if execute -%}
        {%- for schema, identifier in retired_relations() -%}
            {%- set relation = adapter.get_relation(database=target.database, schema=schema, identifier=identifier) -%}
            {%- if relation is not none -%}
                {%- do log('dropping ' ~ relation ~ ', the table of a model that no longer exists', info=true) -%}
                {%- do adapter.drop_relation(relation) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
