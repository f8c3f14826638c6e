-- The change of legal circle from AsylbLG to SGB II, per city and month of SGB II entry: how many
-- entered, how many with a known last day of AsylbLG benefits, and how long the gap between them was.

with

events as (

    select * from {{ ref('int_events_with_person') }}

),

city_months as (

    select * from {{ ref('int_reporting_city_months') }}

),

sgb2_entries as (

    select
        person_key,
        city,
        event_ref,
        event_key,
        event_date as entry_date,
        cast({{ dbt.date_trunc('month', 'event_date') }} as date) as month
    from events
    where event_type = 'SGB2_ENTRY'

),

-- the AsylbLG end is recorded on the SGB II entry itself (same source row)
asylblg_ends as (

    select
        event_ref,
        event_date as asylblg_end_date
    from events
    where event_type = 'ASYLBLG_END'

),

-- a person entering twice in one month (two records) counts once, with the first entry
first_entries_in_month as (

    select
        sgb2_entries.*,
        asylblg_ends.asylblg_end_date,
        row_number() over (
            partition by sgb2_entries.person_key, sgb2_entries.city, sgb2_entries.month
            order by sgb2_entries.entry_date, asylblg_ends.asylblg_end_date, sgb2_entries.event_key
        ) as entry_rank
    from sgb2_entries
    left join asylblg_ends
        on sgb2_entries.event_ref = asylblg_ends.event_ref

),

-- days without either benefit: 0 when SGB II starts the day after AsylbLG ends, negative on overlap
gaps as (

    select
        person_key,
        city,
        month,
        asylblg_end_date,
        {{ dbt.datediff('asylblg_end_date', 'entry_date', 'day') }} - 1 as gap_days
    from first_entries_in_month
    where entry_rank = 1

),

monthly as (

    select
        city,
        month,
        count(distinct person_key) as entries,
        count(distinct case when asylblg_end_date is not null then person_key end) as entries_with_asylblg_end,
        {{ percentile_cont('gap_days', 0.5) }} as gap_days_median,
        {{ percentile_cont('gap_days', 0.9) }} as gap_days_p90,
        count(distinct case when gap_days > 30 then person_key end) as gap_over_30_days
    from gaps
    group by city, month

),

final as (

    select
        city_months.city,
        city_months.month,
        cast(coalesce(monthly.entries, 0) as bigint) as entries,
        cast(coalesce(monthly.entries_with_asylblg_end, 0) as bigint) as entries_with_asylblg_end,
        cast(monthly.gap_days_median as double) as gap_days_median,
        cast(monthly.gap_days_p90 as double) as gap_days_p90,
        cast(coalesce(monthly.gap_over_30_days, 0) as bigint) as gap_over_30_days
    from city_months
    left join monthly
        on city_months.city = monthly.city
        and city_months.month = monthly.month

)

select * from final
