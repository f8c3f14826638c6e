-- The order in which persons reached the legal circles the steering group follows: asylum procedure with
-- benefits under the AsylbLG, basic income support (SGB II), youth welfare (SGB VIII), work or training.
-- Per person, each circle counts at its first entry; consecutive entries form a flow, step 1 being the
-- flow from arrival ('start') into the first circle. A person moving AsylbLG -> SGB II -> Arbeit counts
-- in three flows (start -> AsylbLG at step 1, AsylbLG -> SGB II at step 2, SGB II -> Arbeit at step 3),
-- so the dashboard can draw the journeys as a Sankey chart without cycles.
-- Breakdowns: all persons ('alle' in all three attributes) and one attribute at a time (nationality
-- group, age band at the first entry, sex).

with

spells as (

    select * from {{ ref('person_spells') }}

),

persons as (

    select * from {{ ref('person_milestones') }}

),

circle_entries as (

    select
        person_key,
        legal_circle,
        min(spell_start) as entered_on
    from spells
    where legal_circle in ('AsylbLG', 'SGB II', 'SGB VIII')
    group by person_key, legal_circle

    union all

    select
        person_key,
        'Arbeit' as legal_circle,
        work_or_training_date as entered_on
    from persons
    where work_or_training_date is not null

),

ordered as (

    select
        person_key,
        legal_circle,
        entered_on,
        row_number() over (partition by person_key order by entered_on, legal_circle) as step
    from circle_entries

),

journeys as (

    select
        person_key,
        min(entered_on) as journey_start
    from ordered
    group by person_key

),

flows as (

    select
        persons.city,
        ordered.step,
        coalesce(previous.legal_circle, 'start') as from_circle,
        ordered.legal_circle as to_circle,
        coalesce(persons.nationality_group, 'staatenlos/ungeklärt') as nationality_group,
        {{ age_band('persons.birth_year', 'journeys.journey_start') }} as age_band,
        coalesce(persons.sex, 'unbekannt') as sex,
        ordered.person_key
    from ordered
    inner join persons
        on ordered.person_key = persons.person_key
    inner join journeys
        on ordered.person_key = journeys.person_key
    left join ordered as previous
        on ordered.person_key = previous.person_key
        and previous.step = ordered.step - 1

),

rolled_up as (

    select
        city,
        step,
        from_circle,
        to_circle,
        case when grouping(nationality_group) = 1 then 'alle' else nationality_group end as nationality_group,
        case when grouping(age_band) = 1 then 'alle' else age_band end as age_band,
        case when grouping(sex) = 1 then 'alle' else sex end as sex,
        -- a count, not a distinct count: a person has one row per step (row_number), one city and one set
        -- of attributes (person_milestones), so no group holds a person twice (at 1,000,000 persons 0.7 s
        -- against 1.2-1.3 s, the same rows)
        count(*) as persons
    from flows
    group by grouping sets (
        (city, step, from_circle, to_circle),
        (city, step, from_circle, to_circle, nationality_group),
        (city, step, from_circle, to_circle, age_band),
        (city, step, from_circle, to_circle, sex)
    )

),

final as (

    select
        city,
        cast(step as integer) as step,
        from_circle,
        to_circle,
        nationality_group,
        age_band,
        sex,
        cast(persons as bigint) as persons
    from rolled_up

)

select * from final
