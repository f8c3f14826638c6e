-- Per-person incremental (macros/person_incremental.sql): a monthly build rebuilds the changed persons only.
{{ person_incremental_model() }}

with

events as (

    select * from {{ ref('int_events_with_person') }}
    where {{ for_changed_persons() }}

),

persons as (

    select * from {{ ref('int_person_attributes_consolidated') }}
    where {{ for_changed_persons() }}

),

final as (

    select
        ----------  ids
        events.event_key,
        events.person_key,

        ---------- the event
        events.event_date,
        events.event_date_precision,
        events.event_type,
        events.legal_circle,
        events.source_agency,
        events.detail,

        ---------- where
        events.city,
        events.district,

        ---------- who (coarse, consistent across the person's events)
        persons.birth_year,
        {{ age_band('persons.birth_year', 'events.event_date') }} as age_band,
        persons.sex,
        persons.nationality_group

    from events
    inner join persons
        on events.person_key = persons.person_key

)

select * from final
