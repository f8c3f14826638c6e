-- Persons per city and month end by the set of agencies that have an open spell for them in that city.

with

open_spells as (

    select distinct
        city,
        month,
        person_key,
        source_agency
    from {{ ref('int_spells_at_month_end') }}

),

agency_sets as (

    select
        city,
        month,
        person_key,
        {{ dbt.listagg('source_agency', "'+'", 'order by source_agency') }} as agency_set
    from open_spells
    group by city, month, person_key

),

final as (

    select
        city,
        month,
        agency_set,
        cast(count(distinct person_key) as bigint) as persons
    from agency_sets
    group by city, month, agency_set

)

select * from final
