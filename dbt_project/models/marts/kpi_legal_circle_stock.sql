-- Persons per city and month end with an open spell in each legal circle (a person can count in more
-- than one circle, e.g. AufenthG and SGB II).

with

open_spells as (

    select * from {{ ref('int_spells_at_month_end') }}

),

final as (

    select
        city,
        month,
        legal_circle,
        cast(count(distinct person_key) as bigint) as persons
    from open_spells
    group by city, month, legal_circle

)

select * from final
