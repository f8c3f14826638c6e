with

events as (

    select * from {{ ref('int_events_with_person') }}

),

persons as (

    select * from {{ ref('int_person_attributes_consolidated') }}

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
