-- Per-person incremental (macros/person_incremental.sql): a monthly build rebuilds the changed persons only.
{{ person_incremental_model() }}

with

events as (

    select * from {{ ref('int_events_with_person') }}
    where {{ for_changed_persons() }}

),

persons as (

    select * from {{ ref('int_person_attributes_consolidated') }}
    where {{ for_changed_persons() }}

),

spells as (

    select * from {{ ref('int_spells_unioned') }}
    where {{ for_changed_persons() }}

),

milestone_dates as (

    select
        person_key,
        min(case when event_type = 'ARRIVAL' then event_date end) as arrival_date,
        min(case when event_type = 'ASYLUM_PENDING' then event_date end) as asylum_pending_date,
        min(case when event_type = 'RECOGNITION' then event_date end) as recognition_date,
        min(case when event_type = 'ASYLBLG_END' then event_date end) as asylblg_end_date,
        min(case when event_type = 'SGB2_ENTRY' then event_date end) as sgb2_entry_date,
        min(case when event_type = 'COURSE_START' then event_date end) as first_course_date,
        -- B1 or better reached at the end of a course
        min(case when event_type = 'COURSE_END' and detail in ('B1', 'B2', 'C1', 'C2') then event_date end)
            as b1_date,
        -- work or training taken up, or left SGB II / youth help for it
        min(
            case
                when event_type in ('WORK', 'TRAINING') then event_date
                when event_type in ('SGB2_EXIT', 'YOUTH_HELP_END') and detail in ('ARBEIT', 'AUSBILDUNG')
                    then event_date
            end
        ) as work_or_training_date,
        min(case when legal_circle = 'SGB VIII' and spell_role = 'episode_start' then event_date end)
            as youth_care_start_date
    from events
    group by person_key

),

first_profiles as (

    select
        person_key,
        detail as first_profile_code,
        row_number() over (partition by person_key order by event_date, detail, event_key) as profile_rank
    from events
    where event_type = 'PROFILING'
        and detail is not null

),

youth_spells as (

    select
        person_key,
        end_detail,
        spell_end,
        is_unaccompanied,
        row_number() over (
            partition by person_key
            order by coalesce(spell_end, {{ open_end_date() }}) desc, spell_start desc, city
        ) as recency_rank
    from spells
    where legal_circle = 'SGB VIII'

),

youth_summaries as (

    select
        person_key,
        {{ dbt.bool_or('coalesce(is_unaccompanied, false)') }} as unaccompanied
    from youth_spells
    group by person_key

),

-- the follow-up after the person's latest youth help, once it has ended
youth_follow_ups as (

    select
        person_key,
        coalesce(end_detail, 'UNBEKANNT') as youth_follow_up
    from youth_spells
    where recency_rank = 1
        and spell_end is not null

),

final as (

    select
        persons.person_key,
        persons.city,
        persons.sex,
        persons.birth_year,
        persons.nationality_group,
        milestone_dates.arrival_date,
        milestone_dates.asylum_pending_date,
        milestone_dates.recognition_date,
        milestone_dates.asylblg_end_date,
        milestone_dates.sgb2_entry_date,
        first_profiles.first_profile_code,
        milestone_dates.first_course_date,
        milestone_dates.b1_date,
        milestone_dates.work_or_training_date,
        milestone_dates.youth_care_start_date,
        youth_summaries.unaccompanied,
        -- only the birth year is kept: the 18th birthday is dated to 1 January of that year
        {{ year_to_date('persons.birth_year + 18') }} as age18_date,
        youth_follow_ups.youth_follow_up,
        persons.agencies
    from persons
    left join milestone_dates
        on persons.person_key = milestone_dates.person_key
    left join first_profiles
        on persons.person_key = first_profiles.person_key
        and first_profiles.profile_rank = 1
    left join youth_summaries
        on persons.person_key = youth_summaries.person_key
    left join youth_follow_ups
        on persons.person_key = youth_follow_ups.person_key

)

select * from final
