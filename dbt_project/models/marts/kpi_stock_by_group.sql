-- Persons per city and month end by legal circle, for all persons and by one of the coarse attributes
-- the dashboard filters on at a time: nationality group, age band (at month end) or sex. An attribute
-- that reads 'alle' is summed over; legal_circle 'alle' counts a person with an open spell in any
-- circle once. So the dashboard picks one published row for a filter and never adds cells itself (a sum
-- would count a person in two circles twice and would silently leave out suppressed cells).
-- Combinations of attributes (Syrian women aged 18-24) are not published: their cells are mostly too
-- small, and each small cell forces further cells, totals included, to be withheld (secondary
-- suppression), which would cost the steering group its headline figures.

with

-- one row per person in each (city, month, legal circle), and one per person in (city, month, 'alle'), with
-- the person's attributes at that month end: so count(*) counts distinct persons
stock as (

    select
        city,
        month,
        unnest({{ dbt.array_append('legal_circles', "'alle'") }}) as legal_circle,
        nationality_group,
        age_band,
        sex
    from {{ ref('int_stock_person_months') }}

),

rolled_up as (

    select
        city,
        month,
        legal_circle,
        case when grouping(nationality_group) = 1 then 'alle' else nationality_group end as nationality_group,
        case when grouping(age_band) = 1 then 'alle' else age_band end as age_band,
        case when grouping(sex) = 1 then 'alle' else sex end as sex,
        count(*) as persons
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
