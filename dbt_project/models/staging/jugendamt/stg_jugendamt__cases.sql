-- Delivery-incremental (macros/delivery_incremental.sql): a build recomputes only the event_refs of
-- deliveries this table has not seen or whose delivery is gone, from all raw rows of those event_refs.
{{ delivery_incremental_model(unit=['event_ref'], inputs=[{'source': ['jugendamt', 'cases'], 'units': 'event_ref'}]) }}

with

source as (

    select * from {{ source('jugendamt', 'cases') }}
    where {{ for_replaced_units(['event_ref']) }}

),

renamed as (

    select

        ----------  ids
        event_ref,
        record_ref,
        household_ref,
        delivery_id,

        ---------- identity encodings (keyed pseudonyms from the ingest step)
        azr_hash,
        family_name_hash,
        given_name_hash,
        family_name_phonetic,
        given_name_phonetic,
        family_name_bloom,
        given_name_bloom,
        azr_bloom,
        cast(birth_year as integer) as birth_year,
        birth_date_hash,
        lower(birth_date_precision) as birth_date_precision,
        lower(sex) as sex,

        ---------- place (the youth office records the district itself, no postcode)
        lower(city) as city,
        nullif(trim(district), '') as district,

        ---------- codes
        upper(trim(help_type)) as help_type,
        upper(trim(follow_up)) as follow_up,
        nullif(trim(nationality_name), '') as nationality_name,
        cast(unaccompanied as boolean) as is_unaccompanied,

        ---------- dates
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,

        ---------- delivery
        delivery_month,
        cast(source_row as integer) as source_row

    from source

),

-- an episode is re-sent when it changes (usually when it ends): the latest delivery holds its state
latest_delivery as (

    {{ keep_latest_delivery('renamed', 'event_ref') }}

),

help_types as (

    select * from {{ ref('jugendamt_help_types') }}

),

nationality_codes as (

    select * from {{ ref('nationality_codes') }}

),

final as (

    select
        latest_delivery.event_ref,
        latest_delivery.record_ref,
        latest_delivery.household_ref,
        latest_delivery.delivery_id,

        latest_delivery.azr_hash,
        latest_delivery.family_name_hash,
        latest_delivery.given_name_hash,
        latest_delivery.family_name_phonetic,
        latest_delivery.given_name_phonetic,
        latest_delivery.family_name_bloom,
        latest_delivery.given_name_bloom,
        latest_delivery.azr_bloom,
        latest_delivery.birth_year,
        latest_delivery.birth_date_hash,
        latest_delivery.birth_date_precision,
        latest_delivery.sex,

        latest_delivery.city,
        latest_delivery.district,

        latest_delivery.help_type,
        help_types.event_type,
        help_types.legal_circle,
        latest_delivery.follow_up,
        latest_delivery.nationality_name,
        case
            when latest_delivery.nationality_name is null then 'staatenlos/ungeklärt'
            else coalesce(nationality_codes.nationality_group, 'Sonstige')
        end as nationality_group,
        latest_delivery.is_unaccompanied,

        latest_delivery.start_date,
        latest_delivery.end_date,

        latest_delivery.delivery_month,
        latest_delivery.source_row

    from latest_delivery
    left join help_types
        on latest_delivery.help_type = help_types.help_type
    left join nationality_codes
        on lower(latest_delivery.nationality_name) = lower(nationality_codes.country_name_de)
    where latest_delivery.delivery_rank = 1

)

select * from final
