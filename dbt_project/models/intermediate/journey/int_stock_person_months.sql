-- Who is in the stock at each month end, each person once: one row per person, city and reporting month
-- with an open spell, with the legal circles and the agencies of those spells and the person's
-- nationality group, age band at month end and sex. So the stock KPIs count rows (and unnest the circles),
-- where they used to find distinct persons among some 30 million spell months at 1,000,000 persons on
-- every build; and a monthly build writes only the new month's and the changed persons' rows.
--
-- Per-person incremental (macros/person_incremental.sql), with months as a second dimension like
-- int_spells_at_month_end: a monthly build computes the changed persons' rows for every month, and every
-- person's rows for the months not reported before; months no longer reported are deleted.

{{ person_incremental_model(replace_months_not_in='int_reporting_months') }}

{%- set incremental = is_incremental() and not journey_full_rebuild() %}

with

open_spells as (

    select * from {{ ref('int_spells_at_month_end') }}
    {%- if incremental %}
    -- months already in the table hold every unchanged person's rows
    where {{ for_changed_persons() }}
        or month not in (select distinct month from {{ this }})
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
        bool_or(source_agency = 'jugendamt') as with_jugendamt
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
        list_filter(
            [
                {%- for circle in legal_circles() %}
                case when stock.circle_bits & {{ 2 ** loop.index0 }} <> 0 then '{{ circle }}' end
                {%- if not loop.last %},{% endif %}
                {%- endfor %}
            ],
            circle -> circle is not null
        ) as legal_circles,
        -- the agencies of the contracts, in a fixed order (int_identity_records tests its agency column)
        concat_ws(
            '+',
            case when stock.with_abh then 'abh' end,
            case when stock.with_jobcenter then 'jobcenter' end,
            case when stock.with_jugendamt then 'jugendamt' end
        ) as agency_set,
        coalesce(persons.nationality_group, 'staatenlos/ungeklärt') as nationality_group,
        {{ age_band('persons.birth_year', 'stock.month_end') }} as age_band,
        coalesce(persons.sex, 'unbekannt') as sex
    from stock
    inner join persons
        on stock.person_key = persons.person_key

)

select * from final
