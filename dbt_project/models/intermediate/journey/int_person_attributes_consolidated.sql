-- One set of coarse attributes per person across all of their records. Each record votes once for its
-- value (not once per event, so a long jobcenter history does not outvote the immigration office):
-- birth year from records that know the full birth date first, then the most frequent; sex and
-- nationality group the most frequent known value. Ties go to the smallest value, so runs are repeatable.

-- Per-person incremental (macros/person_incremental.sql): a monthly build rebuilds the changed persons only.
{{ person_incremental_model() }}

with

events as (

    select * from {{ ref('int_events_with_person') }}
    where {{ for_changed_persons() }}

),

record_values as (

    select distinct
        person_key,
        record_ref,
        birth_year,
        birth_date_precision,
        sex,
        nationality_group
    from events

),

birth_year_votes as (

    select
        person_key,
        birth_year,
        max(case when birth_date_precision = 'day' then 1 else 0 end) as is_from_full_date,
        count(distinct record_ref) as records
    from record_values
    where birth_year is not null
    group by person_key, birth_year

),

birth_years as (

    select
        person_key,
        birth_year,
        row_number() over (
            partition by person_key
            order by is_from_full_date desc, records desc, birth_year
        ) as vote_rank
    from birth_year_votes

),

sex_votes as (

    select
        person_key,
        sex,
        count(distinct record_ref) as records
    from record_values
    where sex is not null
    group by person_key, sex

),

sexes as (

    select
        person_key,
        sex,
        row_number() over (partition by person_key order by records desc, sex) as vote_rank
    from sex_votes

),

nationality_votes as (

    select
        person_key,
        nationality_group,
        max(case when nationality_group = 'staatenlos/ungeklärt' then 1 else 0 end) as is_unknown,
        count(distinct record_ref) as records
    from record_values
    group by person_key, nationality_group

),

nationalities as (

    select
        person_key,
        nationality_group,
        row_number() over (
            partition by person_key
            order by is_unknown, records desc, nationality_group
        ) as vote_rank
    from nationality_votes

),

-- the city of the person's latest event
latest_cities as (

    select
        person_key,
        city,
        row_number() over (
            partition by person_key
            -- ties broken by the city itself, not by a keyed hash: figures must not change with the key
            order by event_date desc, delivery_month desc, city, event_key
        ) as recency_rank
    from events

),

agency_memberships as (

    select distinct
        person_key,
        source_agency
    from events

),

agency_sets as (

    select
        person_key,
        {{ dbt.listagg('source_agency', "'+'", 'order by source_agency') }} as agencies
    from agency_memberships
    group by person_key

),

persons as (

    select distinct person_key from events

),

final as (

    select
        persons.person_key,
        latest_cities.city,
        birth_years.birth_year,
        sexes.sex,
        nationalities.nationality_group,
        agency_sets.agencies
    from persons
    left join latest_cities
        on persons.person_key = latest_cities.person_key
        and latest_cities.recency_rank = 1
    left join birth_years
        on persons.person_key = birth_years.person_key
        and birth_years.vote_rank = 1
    left join sexes
        on persons.person_key = sexes.person_key
        and sexes.vote_rank = 1
    left join nationalities
        on persons.person_key = nationalities.person_key
        and nationalities.vote_rank = 1
    left join agency_sets
        on persons.person_key = agency_sets.person_key

)

select * from final
