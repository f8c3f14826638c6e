-- One row: whether this build of the per-person models is a full rebuild (macros/person_incremental.sql).
-- It is when no digests are committed (the first build, or the build before did not finish) or when they
-- were committed by other code: a per-person model's SQL, a macro of the project or a var changed since.
-- In a full rebuild the post-hook drops the per-person tables, which are then created anew.

{{ config(post_hook="{{ drop_person_incremental_models_if_full_rebuild() }}") }}

{%- set committed = adapter.get_relation(
    database=journey_digests_relation().database,
    schema=journey_digests_relation().schema,
    identifier=journey_digests_relation().identifier,
) if execute else none %}
{%- set code_version = journey_code_version() if execute else '' %}

with

final as (

    select
        {%- if committed %}
        coalesce(
            (select bool_or(code_version <> '{{ code_version }}') from {{ committed }}),
            true
        ) as full_rebuild,
        {%- else %}
        true as full_rebuild,
        {%- endif %}
        '{{ code_version }}' as code_version

)

select * from final
