-- Which spells are open at the end of each reporting month: one row per spell and month. A spell is
-- open at month end when it started on or before the last day and has not ended by then (a spell ending
-- on the last day of a month no longer counts for that month).

with

spells as (

    select * from {{ ref('int_spells_unioned') }}

),

months as (

    select * from {{ ref('int_reporting_months') }}

),

final as (

    select
        months.month,
        months.month_end,
        spells.spell_key,
        spells.person_key,
        spells.source_agency,
        spells.legal_circle,
        spells.city,
        spells.is_unaccompanied
    from spells
    inner join months
        on spells.spell_start <= months.month_end
        and coalesce(spells.spell_end, {{ open_end_date() }}) > months.month_end

)

select * from final
