-- Every agency's rows as journey events in the controlled vocabulary (seed event_types), each with the
-- person_key the linkage step gave its source record (registry.person_registry). Agency knowledge ends
-- here; later models read only event types, legal circles and spell roles.
--
-- One model, not two (events per source record, then joined to the registry): writing the 4.9 million
-- events of a million persons twice cost about 6 s of every build. A record missing from the registry
-- keeps a null person_key here, which test assert_every_event_record_is_linked reports (and which stops
-- every model downstream of this one).
--
-- Delivery-incremental (macros/delivery_incremental.sql), per source record: a build recomputes the events
-- of the records whose staged rows differ from those the events were formed from (a new or re-sent
-- delivery, a correction, an event_ref moved to another record; each event keeps its row's delivery_id for
-- that), and of the records the registry now gives another person.
{{ delivery_incremental_model(
    unit=['source_agency', 'record_ref'],
    more_units=['event_records_whose_staged_rows_changed', 'records_given_another_person'],
) }}

with

abh_status as (

    select * from {{ ref('stg_abh__residence_status') }}
    where {{ for_replaced_units(["'abh'", 'record_ref']) }}

),

jobcenter_events as (

    select * from {{ ref('stg_jobcenter__events') }}
    where {{ for_replaced_units(["'jobcenter'", 'record_ref']) }}

),

youth_episodes as (

    select * from {{ ref('stg_jugendamt__cases') }}
    where {{ for_replaced_units(["'jugendamt'", 'record_ref']) }}

),

event_types as (

    select * from {{ ref('event_types') }}

),

person_registry as (

    select
        agency,
        record_ref,
        person_key
    from {{ source('registry', 'person_registry') }}

),

-- immigration office: each status record is an event on the day the status began
abh_status_events as (

    select
        event_ref,
        {{ dbt.hash('event_ref') }} as event_key,
        record_ref,
        'abh' as source_agency,
        city,
        district,
        status_valid_from as event_date,
        event_type,
        legal_circle,
        cast(null as {{ dbt.type_string() }}) as detail,
        cast(null as boolean) as is_unaccompanied,
        birth_year,
        birth_date_precision,
        sex,
        nationality_group,
        delivery_month,
        delivery_id
    from abh_status

),

-- the date of entry is repeated on every status record of a file: one arrival per record, the earliest
abh_arrival_candidates as (

    select
        *,
        row_number() over (
            partition by record_ref
            order by arrival_date, status_valid_from, event_ref
        ) as arrival_rank
    from abh_status
    where arrival_date is not null

),

abh_arrivals as (

    select
        event_ref,
        {{ dbt.hash(dbt.concat(['record_ref', "':ARRIVAL'"])) }} as event_key,
        record_ref,
        'abh' as source_agency,
        city,
        district,
        arrival_date as event_date,
        'ARRIVAL' as event_type,
        cast(null as {{ dbt.type_string() }}) as legal_circle,
        cast(null as {{ dbt.type_string() }}) as detail,
        cast(null as boolean) as is_unaccompanied,
        birth_year,
        birth_date_precision,
        sex,
        nationality_group,
        delivery_month,
        delivery_id
    from abh_arrival_candidates
    where arrival_rank = 1

),

jobcenter_coded_events as (

    select
        event_ref,
        {{ dbt.hash('event_ref') }} as event_key,
        record_ref,
        'jobcenter' as source_agency,
        city,
        district,
        event_date,
        event_type,
        legal_circle,
        case event_code
            when 'PROFILING' then profile_code
            when 'KURS_BEGINN' then language_level
            when 'KURS_ENDE' then language_level
            when 'ABGANG' then exit_reason
        end as detail,
        cast(null as boolean) as is_unaccompanied,
        birth_year,
        birth_date_precision,
        sex,
        nationality_group,
        delivery_month,
        delivery_id
    from jobcenter_events

),

-- the SGB II entry records the last day of AsylbLG benefits: the end of the AsylbLG circle is an event
-- of its own, sharing the entry's event_ref (kpi_sgb2_transitions pairs them by it)
jobcenter_asylblg_ends as (

    select
        event_ref,
        {{ dbt.hash(dbt.concat(['event_ref', "':ASYLBLG_END'"])) }} as event_key,
        record_ref,
        'jobcenter' as source_agency,
        city,
        district,
        asylblg_end_date as event_date,
        'ASYLBLG_END' as event_type,
        cast(null as {{ dbt.type_string() }}) as legal_circle,
        cast(null as {{ dbt.type_string() }}) as detail,
        cast(null as boolean) as is_unaccompanied,
        birth_year,
        birth_date_precision,
        sex,
        nationality_group,
        delivery_month,
        delivery_id
    from jobcenter_events
    where event_code = 'ZUGANG'
        and asylblg_end_date is not null

),

-- youth office: an episode starts with its type of help and, once it has ended, ends with the follow-up
youth_episode_starts as (

    select
        event_ref,
        {{ dbt.hash('event_ref') }} as event_key,
        record_ref,
        'jugendamt' as source_agency,
        city,
        district,
        start_date as event_date,
        event_type,
        legal_circle,
        cast(null as {{ dbt.type_string() }}) as detail,
        is_unaccompanied,
        birth_year,
        birth_date_precision,
        sex,
        nationality_group,
        delivery_month,
        delivery_id
    from youth_episodes

),

youth_episode_ends as (

    select
        event_ref,
        {{ dbt.hash(dbt.concat(['event_ref', "':YOUTH_HELP_END'"])) }} as event_key,
        record_ref,
        'jugendamt' as source_agency,
        city,
        district,
        end_date as event_date,
        'YOUTH_HELP_END' as event_type,
        legal_circle,
        coalesce(follow_up, 'UNBEKANNT') as detail,
        is_unaccompanied,
        birth_year,
        birth_date_precision,
        sex,
        nationality_group,
        delivery_month,
        delivery_id
    from youth_episodes
    where end_date is not null

),

unioned as (

    select * from abh_status_events
    union all
    select * from abh_arrivals
    union all
    select * from jobcenter_coded_events
    union all
    select * from jobcenter_asylblg_ends
    union all
    select * from youth_episode_starts
    union all
    select * from youth_episode_ends

),

final as (

    select
        unioned.event_key,
        person_registry.person_key,
        unioned.event_ref,
        unioned.record_ref,
        unioned.source_agency,
        unioned.city,
        unioned.district,
        unioned.event_date,
        -- all agencies deliver full dates; the vocabulary allows month and year for future sources
        'day' as event_date_precision,
        unioned.event_type,
        coalesce(unioned.legal_circle, event_types.legal_circle) as legal_circle,
        event_types.spell_role,
        unioned.detail,
        unioned.is_unaccompanied,
        unioned.birth_year,
        unioned.birth_date_precision,
        unioned.sex,
        unioned.nationality_group,
        unioned.delivery_month,
        unioned.delivery_id
    from unioned
    left join event_types
        on unioned.event_type = event_types.event_type
    left join person_registry
        on unioned.source_agency = person_registry.agency
        and unioned.record_ref = person_registry.record_ref
    where unioned.event_date is not null

)

select * from final
