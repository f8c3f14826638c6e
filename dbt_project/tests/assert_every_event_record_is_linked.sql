-- Nothing lost at the linkage boundary: every source record with events must have a person_key in the
-- person registry, else its events would drop out of the journey and the KPIs (the per-person models
-- read events by person_key). One row per agency with unlinked records.

select
    source_agency,
    count(distinct record_ref) as unlinked_records
from {{ ref('int_events_with_person') }}
where person_key is null
group by source_agency
