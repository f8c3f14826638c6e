-- Persons per city and month end by the set of agencies that have an open spell for them in that city.
--
-- At a million persons the spells at month end are some 30 million rows and the (city, month, person)
-- groups some 20 million: an ordered string aggregate per group holds them all in memory, and DuckDB cannot
-- spill it. One flag per agency is a plain hash aggregate, which spills. The agencies are the three of the
-- contracts (int_identity_records tests its agency column against exactly these).

with

agency_sets as (

    select
        city,
        month,
        person_key,
        concat_ws(
            '+',
            case when bool_or(source_agency = 'abh') then 'abh' end,
            case when bool_or(source_agency = 'jobcenter') then 'jobcenter' end,
            case when bool_or(source_agency = 'jugendamt') then 'jugendamt' end
        ) as agency_set
    from {{ ref('int_spells_at_month_end') }}
    group by city, month, person_key

),

final as (

    select
        city,
        month,
        agency_set,
        -- one row per person in agency_sets: a count, not a distinct count
        cast(count(*) as bigint) as persons
    from agency_sets
    group by city, month, agency_set

)

select * from final
