-- Minors and young adults in youth welfare (an open SGB VIII spell) at month end, per city.

with

youth_stock as (

    -- is_unaccompanied: one of the person's open youth-office spells there is an unaccompanied minor's
    select
        city,
        month,
        person_key,
        is_unaccompanied
    from {{ ref('int_stock_person_months') }}
    where list_contains(legal_circles, 'SGB VIII')

),

persons as (

    select * from {{ ref('int_person_attributes_consolidated') }}

),

city_months as (

    select * from {{ ref('int_reporting_city_months') }}

),

monthly as (

    select
        youth_stock.city,
        youth_stock.month,
        count(distinct youth_stock.person_key) as in_care,
        count(distinct case when youth_stock.is_unaccompanied then youth_stock.person_key end)
            as unaccompanied_in_care,
        -- only the birth year is kept: "turning 18" means in the calendar year of the month
        count(
            distinct case
                when persons.birth_year + 18 = {{ year_of('youth_stock.month') }}
                    then youth_stock.person_key
            end
        ) as turning_18
    from youth_stock
    left join persons
        on youth_stock.person_key = persons.person_key
    group by youth_stock.city, youth_stock.month

),

final as (

    select
        city_months.city,
        city_months.month,
        cast(coalesce(monthly.in_care, 0) as bigint) as in_care,
        cast(coalesce(monthly.unaccompanied_in_care, 0) as bigint) as unaccompanied_in_care,
        cast(coalesce(monthly.turning_18, 0) as bigint) as turning_18
    from city_months
    left join monthly
        on city_months.city = monthly.city
        and city_months.month = monthly.month

)

select * from final
