-- What follows youth welfare: persons whose youth help (an SGB VIII spell) ended, per city, year of the
-- end and follow-up recorded for the last episode.

with

ended_youth_spells as (

    select
        city,
        person_key,
        spell_end,
        coalesce(end_detail, 'UNBEKANNT') as follow_up
    from {{ ref('int_spells_unioned') }}
    where legal_circle = 'SGB VIII'
        and spell_end is not null

),

final as (

    select
        city,
        {{ year_of('spell_end') }} as year,
        follow_up,
        cast(count(distinct person_key) as bigint) as persons
    from ended_youth_spells
    group by city, {{ year_of('spell_end') }}, follow_up

)

select * from final
