-- Which spells are open at the end of each reporting month: one row per spell and month. A spell is
-- open at month end when it started on or before the last day and has not ended by then (a spell ending
-- on the last day of a month no longer counts for that month).
--
-- Per-person incremental (macros/person_incremental.sql), with months as a second dimension: a monthly
-- build computes the changed persons' rows for every month, and every person's rows for the months not
-- reported before (the new month); months no longer reported are deleted.

{{ person_incremental_model(replace_months_not_in='int_reporting_months') }}

{%- set incremental = is_incremental() and not journey_full_rebuild() %}

with

spells as (

    select * from {{ ref('int_spells_unioned') }}

),

months as (

    select * from {{ ref('int_reporting_months') }}

),

{%- if incremental %}

-- months already in the table hold every unchanged person's rows
new_months as (

    select * from months
    where month not in (select distinct month from {{ this }})

),

spell_months as (

    select months.*, spells.*
    from spells
    inner join months
        on {{ is_open_at('spells.spell_start', 'spells.spell_end', 'months.month_end') }}
    where {{ for_changed_persons('spells.person_key') }}

    union all

    select new_months.*, spells.*
    from spells
    inner join new_months
        on {{ is_open_at('spells.spell_start', 'spells.spell_end', 'new_months.month_end') }}
    where not ({{ for_changed_persons('spells.person_key') }})

),
{%- else %}

spell_months as (

    select months.*, spells.*
    from spells
    inner join months
        on {{ is_open_at('spells.spell_start', 'spells.spell_end', 'months.month_end') }}

),
{%- endif %}

final as (

    select
        month,
        month_end,
        spell_key,
        person_key,
        source_agency,
        legal_circle,
        city,
        is_unaccompanied
    from spell_months

)

select * from final
