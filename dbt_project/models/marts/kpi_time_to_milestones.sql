-- How long after arrival or recognition persons reach a language course, B1 and work or training, per
-- city (latest) and cohort (year of the reference date). A milestone reached before the reference date
-- counts as reached after 0 days. Recent cohorts have had less time: compare cohorts with care.

with

persons as (

    select * from {{ ref('person_milestones') }}

),

reference_dates as (

    select person_key, city, 'arrival' as reference, arrival_date as reference_date,
        first_course_date, b1_date, work_or_training_date
    from persons
    where arrival_date is not null

    union all

    select person_key, city, 'recognition' as reference, recognition_date as reference_date,
        first_course_date, b1_date, work_or_training_date
    from persons
    where recognition_date is not null

),

milestone_dates as (

    select person_key, city, reference, reference_date, 'first_course' as milestone,
        first_course_date as milestone_date
    from reference_dates

    union all

    select person_key, city, reference, reference_date, 'b1' as milestone,
        b1_date as milestone_date
    from reference_dates

    union all

    select person_key, city, reference, reference_date, 'work_or_training' as milestone,
        work_or_training_date as milestone_date
    from reference_dates

),

measured as (

    select
        person_key,
        city,
        {{ year_of('reference_date') }} as cohort_year,
        reference,
        milestone,
        milestone_date,
        case
            when milestone_date is not null
                then greatest({{ dbt.datediff('reference_date', 'milestone_date', 'day') }}, 0)
        end as days_to_milestone
    from milestone_dates

),

final as (

    select
        city,
        cohort_year,
        reference,
        milestone,
        cast(count(distinct person_key) as bigint) as persons,
        cast(count(distinct case when milestone_date is not null then person_key end) as bigint) as reached,
        cast({{ percentile_cont('days_to_milestone', 0.5) }} as double) as days_median
    from measured
    group by city, cohort_year, reference, milestone

)

select * from final
