-- Events of linked records: the person registry written by the linkage step gives each source record its
-- person_key. Records missing from the registry are caught by test assert_every_event_record_is_linked.

with

events as (

    select * from {{ ref('int_events_unioned') }}

),

person_registry as (

    select
        agency,
        record_ref,
        person_key
    from {{ source('registry', 'person_registry') }}

),

final as (

    select
        events.event_key,
        person_registry.person_key,
        events.event_ref,
        events.record_ref,
        events.source_agency,
        events.city,
        events.district,
        events.event_date,
        events.event_date_precision,
        events.event_type,
        events.legal_circle,
        events.spell_role,
        events.detail,
        events.is_unaccompanied,
        events.birth_year,
        events.birth_date_precision,
        events.sex,
        events.nationality_group,
        events.delivery_month
    from events
    inner join person_registry
        on events.source_agency = person_registry.agency
        and events.record_ref = person_registry.record_ref

)

select * from final
