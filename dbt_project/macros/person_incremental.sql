{#-
    Per-person incremental models (tag `person_incremental`): the journey models whose rows for a person
    depend on that person's events alone. A monthly run rebuilds only the persons whose events changed
    since the last successful build: new events, corrected events, and events moved to another person key
    by a merge or split in the registry. How it fits together (dbt_project/README.md, "Per-person
    incremental models"):

    - int_journey_person_digests: per person a 64-bit digest of every column of every event row.
    - int_journey_build_mode: one row; full_rebuild when nothing is committed or the models' code changed.
      Its post-hook then drops the per-person tables, so they are created anew.
    - int_journey_changed_persons: the persons whose digest differs from the committed one (new, changed,
      gone), or every person in a full rebuild. Its post-hook withdraws the committed digests, so a build
      killed half-way rebuilds everyone next time.
    - each per-person model reads only the changed persons' rows (`for_changed_persons`) and replaces
      exactly those persons' rows (incremental strategy `replace_persons`).
    - on-run-end commits the digests (meta.journey_person_digests) only when the build rebuilt every
      per-person model and every node succeeded (`commit_journey_digests`).
-#}

{#-
    The configuration every per-person model starts with: incremental with strategy replace_persons, tag
    person_incremental, and its dependency on the build mode and the changed persons, which its filter and
    strategy read. Keyword arguments: more configuration (replace_months_not_in: a model whose months the
    strategy keeps, a dependency too).
-#}
{% macro person_incremental_model() -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='replace_persons',
        on_schema_change='append_new_columns',
        tags=['person_incremental'],
        **kwargs
    ) }}
    -- depends_on: {{ ref('int_journey_build_mode') }}, {{ ref('int_journey_changed_persons') }}
    {%- if kwargs.get('replace_months_not_in') %}, {{ ref(kwargs['replace_months_not_in']) }}{% endif %}
{%- endmacro %}

{#- The schema and table of the committed digests (written by on-run-end, read by int_journey_changed_persons). -#}
{% macro journey_digests_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='meta', identifier='journey_person_digests')) }}
{%- endmacro %}

{#- The committed digests as they are in the warehouse now; none when nothing is committed (or at parse time). -#}
{% macro committed_journey_digests() -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set digests = journey_digests_relation() -%}
    {{ return(adapter.get_relation(database=digests.database, schema=digests.schema, identifier=digests.identifier)) }}
{%- endmacro %}

{#-
    What the per-person models' rows are a function of besides the events: their own SQL and that of
    int_reporting_months, the digests' SQL, the project's macros, dbt's version and the vars. A change to
    any of them makes the next build a full rebuild.
-#}
{% macro journey_code_version() -%}
    {%- set parts = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
        {#- int_reporting_months: its month ends are copied into int_stock_person_months, not digested;
            int_journey_person_digests: what a digest covers decides which persons are rebuilt -#}
        {%- if node.resource_type == 'model'
              and ('person_incremental' in node.tags
                   or node.name in ('int_reporting_months', 'int_journey_person_digests')) -%}
            {%- do parts.append(node.unique_id ~ '=' ~ node.checksum.checksum) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do parts.extend(macro_and_dbt_versions()) -%}
    {{ return(local_md5(parts | join('|'))) }}
{%- endmacro %}

{#-
    What models' rows depend on besides their SQL and inputs, as text parts for a version: dbt's and the
    adapter's version (their own macros, dbt.hash, dbt.listagg, ..., change with it), every macro of the
    project and the var reporting_first_month. Shared by journey_code_version and delivery_inputs_version.
-#}
{% macro macro_and_dbt_versions() -%}
    {%- set parts = ['dbt=' ~ dbt_version ~ ',adapter=' ~ adapter.type()] -%}
    {#- the graph holds no macros; the context holds each as a callable that knows its parsed macro -#}
    {%- for name in context.keys() | sort -%}
        {%- set macro = context[name].macro -%}
        {%- if macro is defined and macro.package_name == project_name -%}
            {%- do parts.append(macro.unique_id ~ '=' ~ local_md5(macro.macro_sql)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do parts.append('reporting_first_month=' ~ var('reporting_first_month', none)) -%}
    {{ return(parts) }}
{%- endmacro %}

{#-
    SQL for int_journey_build_mode's flag: true when no digests are committed, or when they were committed by
    other code (journey_code_version). int_journey_changed_persons evaluates it again, to refuse a build mode
    left over from an earlier build (a selection that leaves int_journey_build_mode out).
-#}
{% macro journey_full_rebuild_expression() -%}
    {%- set committed = committed_journey_digests() -%}
    {%- if committed -%}
        coalesce((select bool_or(code_version <> '{{ journey_code_version() }}') from {{ committed }}), true)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- True when this build replaces every row of the per-person models (int_journey_build_mode). -#}
{% macro journey_full_rebuild() -%}
    {%- if not execute -%}{{ return(true) }}{%- endif -%}
    {{ return(journey_full_rebuild_of(ref('int_journey_build_mode'))) }}
{%- endmacro %}

{#-
    Post-hook of int_journey_build_mode: in a full rebuild, drop the per-person models' tables, so that each
    is created anew from its whole query (a changed model may have changed its columns, too). Dropped
    through the adapter, which keeps dbt's relation cache true: the models then build as first builds.
-#}
{% macro drop_person_incremental_models_if_full_rebuild() -%}
    {%- if execute and journey_full_rebuild_of(this) -%}
        {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
            {%- if node.resource_type == 'model' and 'person_incremental' in node.tags -%}
                {%- set existing = adapter.get_relation(
                    database=node.database, schema=node.schema, identifier=node.alias) -%}
                {%- if existing is not none -%}
                    {%- do adapter.drop_relation(existing) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{#- The full_rebuild flag of a build-mode relation. -#}
{% macro journey_full_rebuild_of(build_mode) -%}
    {%- set answer = run_query('select full_rebuild from ' ~ build_mode) -%}
    {{ return(answer.columns[0].values()[0]) }}
{%- endmacro %}

{#-
    A filter for the inputs of a per-person model: in an incremental build only the changed persons'
    rows, otherwise every row. `column` is the person key column of the input.
-#}
{% macro for_changed_persons(column='person_key') -%}
    {%- if is_incremental() and not journey_full_rebuild() -%}
        {{ column }} in (select person_key from {{ ref('int_journey_changed_persons') }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#-
    Incremental strategy of the per-person models: delete the changed persons' rows (and, where the model
    sets replace_months_not_in to a model with a month column, the rows of months no longer in it), insert
    the new rows. In a full rebuild the tables were dropped (above) and this is not reached; should one
    have survived, every row is deleted first, so persons nobody knows of any more cannot linger.
-#}
{% macro get_incremental_replace_persons_sql(arg_dict) -%}
    {%- set target_relation = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set months_model = config.get('replace_months_not_in') -%}
    {%- if journey_full_rebuild() %}
    delete from {{ target_relation }};
    {%- else %}
    delete from {{ target_relation }}
    where person_key in (select person_key from {{ ref('int_journey_changed_persons') }})
        {%- if months_model %}
        or month not in (select month from {{ ref(months_model) }})
        {%- endif %};
    {%- endif %}
    insert into {{ target_relation }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{#-
    on-run-end: after a build that rebuilt the three bookkeeping models (build mode, digests, changed
    persons) and every per-person model, with every node successful, the digests the per-person models now reflect become the committed ones. After a
    failed build, or one that selected only some of these models (a subset materialised from the Dagster
    UI, say), nothing is committed: the changed persons' post-hook has withdrawn the old digests, so the
    next build is a full rebuild.
-#}
{% macro commit_journey_digests(results) -%}
    {%- set state = namespace(all_ok=true) -%}
    {%- set needed = [] -%}
    {%- for name in ['int_journey_build_mode', 'int_journey_person_digests', 'int_journey_changed_persons'] -%}
        {%- do needed.append('model.' ~ project_name ~ '.' ~ name) -%}
    {%- endfor -%}
    {%- set built = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and 'person_incremental' in node.tags -%}
                {%- do needed.append(node.unique_id) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for result in results -%}
            {%- if result.status in ['success', 'pass', 'warn'] -%}
                {%- do built.append(result.node.unique_id) -%}
            {%- else -%}
                {%- set state.all_ok = false -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set missing = needed | reject('in', built) | list -%}
    {%- if execute and state.all_ok and not missing -%}
        {%- set digests = journey_digests_relation() -%}
        {%- set source = [] -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.name == 'int_journey_person_digests' -%}
                {%- do source.append(node.relation_name) -%}
            {%- endif -%}
        {%- endfor -%}
        create schema if not exists {{ digests.schema }};
        create or replace table {{ digests }} as
        select person_key, digest, events, '{{ journey_code_version() }}' as code_version
        from {{ source[0] }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
