-- Every city and reporting month, so that KPIs with several measures per city and month have a row
-- (zeros) for months without any case. Cities: the project's cities (seed city_population) and any
-- other city an agency delivered.

with

months as (

    select * from {{ ref('int_reporting_months') }}

),

project_cities as (

    select city from {{ ref('city_population') }}

),

delivered_cities as (

    select distinct city from {{ ref('int_events_with_person') }}

),

cities as (

    select city from project_cities
    union
    select city from delivered_cities

),

final as (

    select
        cities.city,
        months.month,
        months.month_end
    from cities
    cross join months

)

select * from final
