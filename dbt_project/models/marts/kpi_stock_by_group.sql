-- Persons per city and month end by legal circle, for all persons and by one of the coarse attributes
-- the dashboard filters on at a time: nationality group, age band (at month end) or sex. An attribute
-- that reads 'alle' is summed over; legal_circle 'alle' counts a person with an open spell in any
-- circle once. So the dashboard picks one published row for a filter and never adds cells itself (a sum
-- would count a person in two circles twice and would silently leave out suppressed cells).
-- Combinations of attributes (Syrian women aged 18-24) are not published: their cells are mostly too
-- small, and each small cell forces further cells, totals included, to be withheld (secondary
-- suppression), which would cost the steering group its headline figures.

with

-- persons per cell of everything the KPI groups by, the legal circles still as a person's list: 53,000 cells
-- from 23 million person months at 1,000,000 persons, so that the circles are unnested and rolled up once
-- per cell, not once per person (1.0 s against 2.7 s for the same rows)
cells as (

    select
        city,
        month,
        legal_circles,
        nationality_group,
        age_band,
        sex,
        count(*) as persons
    from {{ ref('int_stock_person_months') }}
    group by city, month, legal_circles, nationality_group, age_band, sex

),

-- one row per cell in each of its legal circles and in 'alle': a person's circles are distinct and each
-- person is one row per city and month (the model's uniqueness test), so the sums count distinct persons
stock as (

    select
        city,
        month,
        unnest({{ dbt.array_append('legal_circles', "'alle'") }}) as legal_circle,
        nationality_group,
        age_band,
        sex,
        persons
    from cells

),

rolled_up as (

    select
        city,
        month,
        legal_circle,
        case when grouping(nationality_group) = 1 then 'alle' else nationality_group end as nationality_group,
        case when grouping(age_band) = 1 then 'alle' else age_band end as age_band,
        case when grouping(sex) = 1 then 'alle' else sex end as sex,
        sum(persons) as persons
    from stock
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
