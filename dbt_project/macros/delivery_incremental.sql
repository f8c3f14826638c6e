{#-
    Delivery-incremental models (tag `delivery_incremental`): models whose rows for a unit (a staging row's
    event_ref, a source record's identities or events) depend only on that unit's rows in their inputs. A
    build replaces only the units whose input rows changed since the model's last build; without this, a
    month at 1,000,000 persons recomputed every staging row, identity and event (dbt_project/README.md,
    "Delivery-incremental models").

    Which units changed, per model:
    - staging (`inputs`: the raw table): each row keeps the delivery_id of its raw row, so comparing the
      delivery ids of raw with its own finds the units of raw rows from deliveries it has not seen (a new
      month, a month re-sent under a new delivery_id) and its own units from deliveries raw no longer holds
      (the re-sent month's old id): an older version of a corrected row comes back, or the unit goes. A
      delivery whose every row lost to a later correction has no row here and is recomputed each build,
      which costs its rows and changes nothing. This holds because ingestion loads a delivery whole, in one
      transaction, and replaces a re-sent one whole.
    - identity records and events (`more_units`): a staging table keeps only the winning version of each
      row, so a delivery id seen before can come back or move to another record there, and delivery ids
      alone would miss it (a correction may move an event_ref to another record_ref). These compare their
      rows with staging instead: the identity records by a digest of each record's staged rows
      (records_whose_staged_rows_changed), the events row by row (event_records_whose_staged_rows_changed);
      the events also take the records the registry now gives another person.
    Null keys are not units (a null never matches): the raw sources' not_null tests stop the build first.

    The units are written to a table by a pre-hook (`<model>__replaced`, dropped by the post-hook, both in
    the model's transaction); the model's SQL recomputes their rows from all their input rows and the
    strategy `replace_units` deletes the units and inserts the new rows. A unit recomputed to no rows is
    so deleted.

    Rows are also a function of code and of the tables upstream. The post-hook stores a version with the
    table in meta.delivery_incremental_versions (`delivery_inputs_version`): the model's SQL, every seed
    and plain model upstream, the stored versions of the delivery-incremental tables upstream (what this
    table was built from), the project's macros, dbt's version and the var reporting_first_month.
    on-run-start drops the table of a selected model whose stored version differs, and of every selected
    model downstream of one it drops; the build creates them from all rows.
-#}

{#-
    The configuration a delivery-incremental model starts with.
    - `unit`: the columns identifying a unit in the model;
    - `inputs`: per input whose rows keep their delivery_id, `ref` (a model) or `source` ([source, table]),
      and `units`: select expressions giving an input row's unit, in the order of `unit`;
    - `more_units`: names of macros returning SQL for (more) units to replace.
-#}
{% macro delivery_incremental_model(unit, inputs=[], more_units=[]) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='replace_units',
        unique_key=unit,
        delivery_inputs=inputs,
        more_units=more_units,
        on_schema_change='fail',
        tags=['delivery_incremental'],
        pre_hook=["{{ delivery_units_pre_hook() }}"],
        post_hook=["{{ delivery_units_post_hook() }}"]
    ) }}
{%- endmacro %}

{#- The table of the units this build replaces. -#}
{% macro replaced_units_relation(relation=this) -%}
    {{ return(api.Relation.create(database=relation.database, schema=relation.schema,
                                  identifier=relation.identifier ~ '__replaced')) }}
{%- endmacro %}

{#- An input of `delivery_inputs` as a relation. -#}
{% macro delivery_input_relation(input) -%}
    {%- if input.get('source') -%}
        {{ return(source(input['source'][0], input['source'][1])) }}
    {%- else -%}
        {{ return(ref(input['ref'])) }}
    {%- endif -%}
{%- endmacro %}

{#-
    Pre-hook: in an incremental build, the units to replace as a table, which the model's SQL and the
    strategy read: those of input rows from deliveries the model has not seen, the model's own from
    deliveries no input holds any more, and `more_units`.
-#}
{% macro delivery_units_pre_hook() -%}
    {%- if execute and is_incremental() -%}
        {%- set unit = config.get('unique_key') -%}
        {%- set inputs = config.get('delivery_inputs') or [] -%}
        {%- set more_units = config.get('more_units') or [] -%}
        create or replace table {{ replaced_units_relation() }} as
        with
        {%- if inputs %}
        seen as (
            select distinct delivery_id from {{ this }}
        ),
        current_deliveries as (
            {%- for input in inputs %}
            select distinct delivery_id from {{ delivery_input_relation(input) }}{% if not loop.last %} union{% endif %}
            {%- endfor %}
        ),
        {%- endif %}
        touched ({{ unit | join(', ') }}) as (
            {%- for input in inputs %}
            select {{ input['units'] }} from {{ delivery_input_relation(input) }} as input
            where not exists (select 1 from seen where seen.delivery_id = input.delivery_id)
            union all
            {%- endfor %}
            {%- if inputs %}
            select {{ unit | join(', ') }} from {{ this }} as existing
            where not exists (select 1 from current_deliveries where current_deliveries.delivery_id = existing.delivery_id)
            {%- endif %}
            {%- for name in more_units %}
            {% if inputs or not loop.first %}union all{% endif %}
            select * from ({{ context[name]() }}) as more_units_{{ loop.index }}
            {%- endfor %}
        )
        select distinct * from touched
    {%- else -%}
        drop table if exists {{ replaced_units_relation() }}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: drop the units' table, and store the version (code and upstream tables) the table now reflects. -#}
{% macro delivery_units_post_hook() -%}
    {%- set versions = delivery_versions_relation() -%}
    drop table if exists {{ replaced_units_relation() }};
    create schema if not exists {{ versions.schema }};
    create table if not exists {{ versions }} (model varchar, version varchar);
    delete from {{ versions }} where model = '{{ model.unique_id }}';
    insert into {{ versions }} values (
        '{{ model.unique_id }}', '{{ delivery_inputs_version(model.unique_id, stored_delivery_versions()) }}')
{%- endmacro %}

{#-
    A filter for an input of a delivery-incremental model: in an incremental build only the rows of the
    replaced units, else every row. `columns`: the input's columns matching the unit's, in the unit's
    order (a literal for a unit column the input does not have: the agency, for one input of several).
-#}
{% macro for_replaced_units(columns) -%}
    {%- if execute and is_incremental() -%}
        {%- set unit = config.get('unique_key') -%}
        ({{ columns | join(', ') }}) in (select ({{ unit | join(', ') }}) from {{ replaced_units_relation() }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- Incremental strategy: delete the replaced units' rows, insert the recomputed ones. -#}
{% macro get_incremental_replace_units_sql(arg_dict) -%}
    {%- set target_relation = arg_dict['target_relation'] -%}
    {%- set unit = arg_dict['unique_key'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target_relation }}
    where ({{ unit | join(', ') }}) in (select ({{ unit | join(', ') }}) from {{ replaced_units_relation(target_relation) }});
    insert into {{ target_relation }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{% macro delivery_versions_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='meta', identifier='delivery_incremental_versions')) }}
{%- endmacro %}

{#-
    What a delivery-incremental model's table is a function of besides its inputs' rows: its own SQL, that of
    every seed and plain model upstream, the `stored` version of every delivery-incremental table upstream
    (their code and inputs in turn: what this table was built from, which a build of only some models may
    leave behind the code), the project's macros, dbt's version and the var reporting_first_month.
-#}
{% macro delivery_inputs_version(unique_id, stored) -%}
    {%- set parts = [] -%}
    {%- set seen = [] -%}
    {%- set queue = [unique_id] -%}
    {%- for _ in range(10000) if queue -%}
        {%- set current = queue.pop(0) -%}
        {%- if current not in seen and current in graph.nodes -%}
            {%- do seen.append(current) -%}
            {%- set node = graph.nodes[current] -%}
            {%- if current != unique_id and 'delivery_incremental' in node.tags -%}
                {%- do parts.append(current ~ '@' ~ stored.get(current, 'none')) -%}
            {%- else -%}
                {%- do parts.append(current ~ '=' ~ node.checksum.checksum) -%}
                {%- for parent in node.depends_on.nodes -%}
                    {%- do queue.append(parent) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do parts.extend(macro_and_dbt_versions()) -%}
    {{ return(local_md5(parts | sort | join('|'))) }}
{%- endmacro %}

{#-
    The stored versions, {unique_id: version}; asked of DuckDB, not of dbt's relation cache: in on-run-start a
    cache miss (schema meta is no model's) opens a transaction, which the hook runner rolls back, and the
    drops with it.
-#}
{% macro stored_delivery_versions() -%}
    {%- if not execute -%}{{ return({}) }}{%- endif -%}
    {%- set versions = delivery_versions_relation() -%}
    {%- set stored = {} -%}
    {%- set found = run_query("select count(*) from duckdb_tables() where schema_name = '" ~ versions.schema
                              ~ "' and table_name = '" ~ versions.identifier ~ "'") -%}
    {%- if found.columns[0].values()[0] > 0 -%}
        {%- for row in run_query('select model, version from ' ~ versions) -%}
            {%- do stored.update({row[0]: row[1]}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(stored) }}
{%- endmacro %}

{#-
    on-run-start: drop the table of every selected delivery-incremental model whose stored version is not
    its current one (or that has none), and of every selected one downstream of such a model, so that this
    build creates them from all rows.
-#}
{% macro drop_outdated_delivery_incremental_models() -%}
    {%- if execute -%}
        {%- set stored = stored_delivery_versions() -%}
        {%- set selected = [] -%}
        {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
            {%- if node.resource_type == 'model' and 'delivery_incremental' in node.tags
                  and node.unique_id in selected_resources -%}
                {%- do selected.append(node) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set changed = [] -%}
        {%- for node in selected -%}
            {%- if stored.get(node.unique_id) != delivery_inputs_version(node.unique_id, stored) -%}
                {%- do changed.append(node.unique_id) -%}
            {%- endif -%}
        {%- endfor -%}
        {#- and those downstream of one: their stored version names the upstream table this build replaces
            (delivery_incremental_upstream is transitive, so one pass finds them all) -#}
        {%- set outdated = [] -%}
        {%- for node in selected -%}
            {%- if node.unique_id in changed
                  or delivery_incremental_upstream(node.unique_id) | select('in', changed) | list -%}
                {%- do outdated.append(node.unique_id) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for node in selected if node.unique_id in outdated -%}
            {%- set existing = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
            {%- if existing is not none -%}
                {%- do log('rebuilding ' ~ existing ~ ' from all rows: its code or an input changed', info=true) -%}
                {%- do adapter.drop_relation(existing) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{#- The delivery-incremental models upstream of a node (unique ids), through any nodes in between. -#}
{% macro delivery_incremental_upstream(unique_id) -%}
    {%- set found = [] -%}
    {%- set seen = [] -%}
    {%- set queue = graph.nodes[unique_id].depends_on.nodes | list -%}
    {%- for _ in range(10000) if queue -%}
        {%- set current = queue.pop(0) -%}
        {%- if current not in seen and current in graph.nodes -%}
            {%- do seen.append(current) -%}
            {%- if 'delivery_incremental' in graph.nodes[current].tags -%}
                {%- do found.append(current) -%}
            {%- endif -%}
            {%- for parent in graph.nodes[current].depends_on.nodes -%}
                {%- do queue.append(parent) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#-
    More units of int_events_with_person: the source records whose events carry another person_key than the
    registry now gives them (a merge or split by linkage, a review decision), or none where it now has one.
-#}
{% macro records_given_another_person() -%}
    select events.source_agency, events.record_ref
    from (select distinct source_agency, record_ref, person_key from {{ this }}) as events
    left join {{ source('registry', 'person_registry') }} as registry
        on registry.agency = events.source_agency
        and registry.record_ref = events.record_ref
    where registry.person_key is distinct from events.person_key
{%- endmacro %}

{#-
    Units of int_events_with_person: the source records on either side of a staged row that differs from
    what the events were formed from (its event_ref under another record, from another delivery, or on one
    side only), compared row by row: staging keeps one row per event_ref, the events one record and delivery
    per event_ref (an event and those derived from its row share them). A staged row that gives no event
    (no date) stays on one side and is recomputed each build, which changes nothing.
-#}
{% macro event_records_whose_staged_rows_changed() -%}
    {%- set models = agency_staging_models() -%}
    with staged as (
        {%- for agency, model in models.items() %}
        select '{{ agency }}' as source_agency, event_ref, record_ref, delivery_id from {{ ref(model) }}
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    ),
    built as (
        select distinct source_agency, event_ref, record_ref, delivery_id from {{ this }}
    ),
    differing as (
        select
            staged.source_agency as staged_agency,
            staged.record_ref as staged_record,
            built.source_agency as built_agency,
            built.record_ref as built_record
        from staged
        full outer join built
            on staged.source_agency = built.source_agency
            and staged.event_ref = built.event_ref
        where staged.record_ref is distinct from built.record_ref
            or staged.delivery_id is distinct from built.delivery_id
    )
    select staged_agency, staged_record from differing where staged_record is not null
    union all
    select built_agency, built_record from differing where built_record is not null
{%- endmacro %}

{#-
    A staged row's hash for int_identity_records' staged_rows_digest: the row's event_ref and the delivery it
    came from. Hashed twice, as in int_journey_person_digests: DuckDB's hash of several columns is
    xor-linear in the last one, so two rows whose delivery changed alike would cancel out in the xor.
-#}
{% macro staged_row_hash(relation) -%}
    hash(hash({{ relation }}.event_ref, {{ relation }}.delivery_id))
{%- endmacro %}

{#-
    More units of int_identity_records: the records whose staged rows are not those their identities were
    formed from (a row added, replaced by a correction, or gone with its delivery), or that have no
    identity yet, or no staged row any more; compared by the xor of staged_row_hash over the record.
-#}
{% macro records_whose_staged_rows_changed() -%}
    {%- set models = agency_staging_models() -%}
    select coalesce(staged.agency, built.agency), coalesce(staged.record_ref, built.record_ref)
    from (
        {%- for agency, model in models.items() %}
        select '{{ agency }}' as agency, record_ref, bit_xor({{ staged_row_hash('rows') }}) as digest
        from {{ ref(model) }} as rows group by record_ref
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    ) as staged
    full outer join (
        select agency, record_ref, bit_xor(staged_rows_digest) as digest from {{ this }} group by agency, record_ref
    ) as built
        on staged.agency = built.agency
        and staged.record_ref = built.record_ref
    where staged.digest is distinct from built.digest
{%- endmacro %}

{#- Each agency's staging model: the identity records' inputs and what the events compare with staging
    (adding an agency adds an entry here). -#}
{% macro agency_staging_models() -%}
    {{ return({
        'abh': 'stg_abh__residence_status',
        'jobcenter': 'stg_jobcenter__events',
        'jugendamt': 'stg_jugendamt__cases',
    }) }}
{%- endmacro %}
