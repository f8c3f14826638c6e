-- One row: whether this build of the per-person models is a full rebuild (macros/person_incremental.sql).
-- It is when no digests are committed (the first build, or the build before did not finish) or when they
-- were committed by other code: a per-person model's, int_reporting_months' or int_journey_person_digests'
-- SQL, a macro of the project, dbt's version or a var changed since (journey_code_version).
-- In a full rebuild the post-hook drops the per-person tables, which are then created anew.

{{ config(post_hook="{{ drop_person_incremental_models_if_full_rebuild() }}") }}

with

final as (

    select
        {{ journey_full_rebuild_expression() }} as full_rebuild,
        '{{ journey_code_version() if execute else '' }}' as code_version

)

select * from final
