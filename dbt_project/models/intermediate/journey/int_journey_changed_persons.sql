-- The persons the per-person models rebuild in this build: those whose event digest differs from the
-- committed one, those new since and those gone since (merged into another person, or deleted); in a
-- full rebuild every person (macros/person_incremental.sql). The post-hook withdraws the committed
-- digests: they are committed again only when the whole build has succeeded (on-run-end), so a failed or
-- killed build is followed by a full rebuild.

{{ config(post_hook="drop table if exists {{ journey_digests_relation() }}") }}

{%- set committed = committed_journey_digests() %}

with

build_mode as (

    select * from {{ ref('int_journey_build_mode') }}

),

current_digests as (

    select
        person_key,
        digest,
        events
    from {{ ref('int_journey_person_digests') }}

),

committed_digests as (

    {%- if committed %}
    select
        person_key,
        digest,
        events
    from {{ committed }}
    {%- else %}
    select
        cast(null as varchar) as person_key,
        cast(null as ubigint) as digest,
        cast(null as bigint) as events
    where false
    {%- endif %}

),

-- the build mode must be this build's: one left over from an earlier build (a selection without
-- int_journey_build_mode) could take a full rebuild for an incremental one
build_mode_is_current as (

    select
        case
            when build_mode.full_rebuild = ({{ journey_full_rebuild_expression() }})
                and build_mode.code_version = '{{ journey_code_version() if execute else '' }}'
                then true
            else error(
                'int_journey_build_mode is out of date: build it in the same invocation as '
                || 'int_journey_changed_persons (dbt build --selector post_linkage)'
            )
        end as ok
    from build_mode

),

final as (

    select coalesce(current_digests.person_key, committed_digests.person_key) as person_key
    from current_digests
    full outer join committed_digests
        on current_digests.person_key = committed_digests.person_key
    where (select ok from build_mode_is_current)
        and (
            (select full_rebuild from build_mode)
            or current_digests.person_key is null
            or committed_digests.person_key is null
            or current_digests.digest <> committed_digests.digest
            or current_digests.events <> committed_digests.events
        )

)

select * from final
