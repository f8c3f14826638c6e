-- Nothing lost at the linkage boundary: every source record with events must have a person_key in the
-- person registry, else its events would silently drop out of the journey and the KPIs.

with

event_records as (

    select distinct
        source_agency,
        record_ref
    from {{ ref('int_events_unioned') }}

),

person_registry as (

    select * from {{ source('registry', 'person_registry') }}

)

select
    event_records.source_agency,
    count(*) as unlinked_records
from event_records
left join person_registry
    on event_records.source_agency = person_registry.agency
    and event_records.record_ref = person_registry.record_ref
where person_registry.person_key is null
group by event_records.source_agency
