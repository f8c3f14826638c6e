-- Persons per city and month end by legal circle, for all persons and by one of the coarse attributes
-- the dashboard filters on at a time: nationality group, age band (at month end) or sex. An attribute
-- that reads 'alle' is summed over; legal_circle 'alle' counts a person with an open spell in any
-- circle once. So the dashboard picks one published row for a filter and never adds cells itself (a sum
-- would count a person in two circles twice and would silently leave out suppressed cells).
-- Combinations of attributes (Syrian women aged 18-24) are not published: their cells are mostly too
-- small, and each small cell forces further cells, totals included, to be withheld (secondary
-- suppression), which would cost the steering group its headline figures.

with

open_spells as (

    select * from {{ ref('int_spells_at_month_end') }}

),

persons as (

    select * from {{ ref('int_person_attributes_consolidated') }}

),

-- Persons numbered, so that the distinct steps below compare integers instead of 32-character keys (at
-- 1,000,000 persons and 29 million spell months: 13-14 s instead of 20-21 s); ordered, so that the numbers
-- are the same wherever the CTE is read.
numbered_persons as (

    select
        row_number() over (order by person_key) as person_number,
        person_key,
        nationality_group,
        birth_year,
        sex
    from persons

),

-- every spell's person has attributes: both are built from the same events (int_events_with_person)
spell_months as (

    select
        open_spells.city,
        open_spells.month,
        open_spells.month_end,
        open_spells.legal_circle,
        numbered_persons.person_number
    from open_spells
    inner join numbered_persons
        on open_spells.person_key = numbered_persons.person_key

),

in_circle as (

    select distinct
        city,
        month,
        month_end,
        legal_circle,
        person_number
    from spell_months

),

in_any_circle as (

    select distinct
        city,
        month,
        month_end,
        'alle' as legal_circle,
        person_number
    from spell_months

),

stock as (

    select * from in_circle
    union all
    select * from in_any_circle

),

described as (

    select
        stock.city,
        stock.month,
        stock.legal_circle,
        coalesce(numbered_persons.nationality_group, 'staatenlos/ungeklärt') as nationality_group,
        {{ age_band('numbered_persons.birth_year', 'stock.month_end') }} as age_band,
        coalesce(numbered_persons.sex, 'unbekannt') as sex
    from stock
    inner join numbered_persons
        on stock.person_number = numbered_persons.person_number

),

-- one row per person and (city, month, circle) above, so count(*) counts distinct persons
rolled_up as (

    select
        city,
        month,
        legal_circle,
        case when grouping(nationality_group) = 1 then 'alle' else nationality_group end as nationality_group,
        case when grouping(age_band) = 1 then 'alle' else age_band end as age_band,
        case when grouping(sex) = 1 then 'alle' else sex end as sex,
        count(*) as persons
    from described
    group by grouping sets (
        (city, month, legal_circle),
        (city, month, legal_circle, nationality_group),
        (city, month, legal_circle, age_band),
        (city, month, legal_circle, sex)
    )

),

final as (

    select
        city,
        month,
        legal_circle,
        nationality_group,
        age_band,
        sex,
        cast(persons as bigint) as persons
    from rolled_up

)

select * from final
