-- Persons per city and month end by the set of agencies that have an open spell for them in that city.

with

-- one row per person, city and month, with the agencies of all of the person's open spells there
stock as (

    select * from {{ ref('int_stock_person_months') }}

),

final as (

    select
        city,
        month,
        agency_set,
        -- a count, not a distinct count (above)
        cast(count(*) as bigint) as persons
    from stock
    group by city, month, agency_set

)

select * from final
