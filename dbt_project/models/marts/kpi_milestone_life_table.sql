-- A life table per city, cohort (year of arrival or recognition) and milestone (first language course,
-- B1, work or training), by quarter since the reference date (month_since = 0, 3, 6, ...: the quarter's
-- first whole month): how many were still on the way at its start (at_risk), reached the milestone in it
-- (reached) or left observation in it without having reached it (censored: the data end before they
-- could). From these aggregates the dashboard computes Kaplan-Meier curves, so that people still on the
-- way count correctly, without any person-level data in the release. Rows only for quarters in which
-- someone reached the milestone or left observation: the curve changes only there. A milestone reached
-- before the reference date counts as reached in the first quarter.
-- Quarters, not months, and all persons only ('alle' in the three attribute columns, kept for a later
-- breakdown): a month-by-group table has so many cells of 1 to 4 persons that secondary suppression
-- withheld most of the table (60 % of cells, curves known only to within tens of percent, minutes of
-- suppression for a city); by quarter for all persons the curves stay within a few points.

with

persons as (

    select * from {{ ref('person_milestones') }}

),

months as (

    select * from {{ ref('int_reporting_months') }}

),

observation as (

    select max(month_end) as observed_until from months

),

reference_dates as (

    select person_key, city, sex, birth_year, nationality_group, 'arrival' as reference,
        arrival_date as reference_date, first_course_date, b1_date, work_or_training_date
    from persons
    where arrival_date is not null

    union all

    select person_key, city, sex, birth_year, nationality_group, 'recognition' as reference,
        recognition_date as reference_date, first_course_date, b1_date, work_or_training_date
    from persons
    where recognition_date is not null

),

milestone_dates as (

    select *, 'first_course' as milestone, first_course_date as milestone_date from reference_dates
    union all
    select *, 'b1' as milestone, b1_date as milestone_date from reference_dates
    union all
    select *, 'work_or_training' as milestone, work_or_training_date as milestone_date from reference_dates

),

durations as (

    select
        milestone_dates.city,
        {{ year_of('milestone_dates.reference_date') }} as cohort_year,
        milestone_dates.reference,
        milestone_dates.milestone,
        case
            when milestone_dates.milestone_date <= observation.observed_until then 1 else 0
        end as is_reached,
        -- the quarter (as its first month: 0, 3, 6, ...) of whole months of 30.4375 days (a mean month)
        -- from the reference date to the milestone or, for those still on the way, to the end of the data
        cast(
            3 * floor(
                floor(
                    greatest(
                        {{ dbt.datediff(
                            'milestone_dates.reference_date',
                            'coalesce(milestone_dates.milestone_date, observation.observed_until)',
                            'day'
                        ) }},
                        0
                    ) / 30.4375
                ) / 3
            ) as integer
        ) as month_since
    from milestone_dates
    cross join observation
    where milestone_dates.reference_date <= observation.observed_until

),

events_per_quarter as (

    select
        city,
        cohort_year,
        reference,
        milestone,
        month_since,
        sum(is_reached) as reached,
        sum(1 - is_reached) as censored
    from durations
    group by city, cohort_year, reference, milestone, month_since

),

final as (

    select
        city,
        cohort_year,
        reference,
        milestone,
        'alle' as nationality_group,
        'alle' as age_band,
        'alle' as sex,
        month_since,
        -- everyone whose quarter is this one or later was still on the way at its start
        cast(
            sum(reached + censored) over (
                partition by city, cohort_year, reference, milestone
                order by month_since desc
                rows between unbounded preceding and current row
            ) as bigint
        ) as at_risk,
        cast(reached as bigint) as reached,
        cast(censored as bigint) as censored
    from events_per_quarter

)

select * from final
