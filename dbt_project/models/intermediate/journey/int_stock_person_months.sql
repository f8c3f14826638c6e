-- Who is in the stock at each month end, each person once: one row per person, city and reporting month
-- in which the person has a spell open at month end (started on or before the last day of the month and
-- not ended by then; a spell ending on the last day no longer counts for that month), with the legal
-- circles and agencies of those spells, whether a youth-office spell among them is an unaccompanied
-- minor's, and the person's nationality group, age band at month end and sex. kpi_stock_by_group,
-- kpi_legal_circle_stock and kpi_persons_by_agency count its rows (unnesting the circles): at 1,000,000
-- persons they used to find distinct persons among 29 million spell months on every build.
-- kpi_youth_care and kpi_profile_mix take their SGB VIII and SGB II stock from it.
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

new_months as (

    select * from months
    where month not in (select distinct month from {{ this }})

),
{%- endif %}

open_spells as (

    -- the changed persons in every month (in a full build: everyone)
    select months.*, spells.*
    from spells
    inner join months
        on {{ is_open_at('spells.spell_start', 'spells.spell_end', 'months.month_end') }}
    where {{ for_changed_persons('spells.person_key') }}
    {%- if incremental %}

    union all

    -- months already in the table hold every unchanged person's rows: theirs in the new months only
    select new_months.*, spells.*
    from spells
    inner join new_months
        on {{ is_open_at('spells.spell_start', 'spells.spell_end', 'new_months.month_end') }}
    where not ({{ for_changed_persons('spells.person_key') }})
    {%- endif %}

),

persons as (

    select * from {{ ref('int_person_attributes_consolidated') }}

),

-- a person's circles as bits (macros/legal_circles.sql): a list aggregate cannot spill to disk, and at
-- 1,000,000 persons its 23 million groups outgrow dbt's memory limit
stock as (

    select
        person_key,
        city,
        month,
        month_end,
        bit_or(
            case legal_circle
                {%- for circle in legal_circles() %}
                when '{{ circle }}' then {{ 2 ** loop.index0 }}
                {%- endfor %}
                else error('int_stock_person_months: legal circle "' || coalesce(legal_circle, 'null')
                    || '" is not in macro legal_circles()')
            end
        ) as circle_bits,
        bool_or(source_agency = 'abh') as with_abh,
        bool_or(source_agency = 'jobcenter') as with_jobcenter,
        bool_or(source_agency = 'jugendamt') as with_jugendamt,
        coalesce(bool_or(legal_circle = 'SGB VIII' and is_unaccompanied), false) as is_unaccompanied
    from open_spells
    group by person_key, city, month, month_end

),

-- every spell's person has attributes: both are built from the same events (int_events_with_person; the
-- relationships test on int_spells_unioned.person_key)
final as (

    select
        stock.person_key,
        stock.city,
        stock.month,
        stock.month_end,
        list_filter(
            [
                {%- for circle in legal_circles() %}
                case when stock.circle_bits & {{ 2 ** loop.index0 }} <> 0 then '{{ circle }}' end
                {%- if not loop.last %},{% endif %}
                {%- endfor %}
            ],
            lambda circle: circle is not null
        ) as legal_circles,
        -- the agencies of the contracts, in a fixed order (int_identity_records tests its agency column)
        concat_ws(
            '+',
            case when stock.with_abh then 'abh' end,
            case when stock.with_jobcenter then 'jobcenter' end,
            case when stock.with_jugendamt then 'jugendamt' end
        ) as agency_set,
        stock.is_unaccompanied,
        coalesce(persons.nationality_group, 'staatenlos/ungeklärt') as nationality_group,
        {{ age_band('persons.birth_year', 'stock.month_end') }} as age_band,
        coalesce(persons.sex, 'unbekannt') as sex
    from stock
    inner join persons
        on stock.person_key = persons.person_key

)

select * from final
