-- Persons per city and month end with an open spell in each legal circle (a person can count in more
-- than one circle, e.g. AufenthG and SGB II).

with

-- one row per person, city, month and circle: each person's circles are distinct
stock as (

    select
        city,
        month,
        unnest(legal_circles) as legal_circle
    from {{ ref('int_stock_person_months') }}

),

final as (

    select
        city,
        month,
        legal_circle,
        -- a count, not a distinct count (above)
        cast(count(*) as bigint) as persons
    from stock
    group by city, month, legal_circle

)

select * from final
