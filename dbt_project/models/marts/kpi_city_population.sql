-- The inhabitants of each city, published with the figures so that the dashboard can show rates per
-- 1,000 inhabitants from the release alone. Official population figures, not persons of this pipeline:
-- nothing to suppress.

with

population as (

    select * from {{ ref('city_population') }}

),

final as (

    select
        city,
        cast(population as bigint) as population
    from population

)

select * from final
