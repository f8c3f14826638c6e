-- Delivery-incremental (macros/delivery_incremental.sql): a build recomputes only the event_refs of
-- deliveries this table has not seen or whose delivery is gone, from all raw rows of those event_refs.
{{ delivery_incremental_model(unit=['event_ref'], inputs=[{'source': ['abh', 'residence_status'], 'units': 'event_ref'}]) }}

with

source as (

    select * from {{ source('abh', 'residence_status') }}
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

        ---------- place
        lower(city) as city,
        trim(postcode) as postcode,

        ---------- codes
        upper(trim(status_code)) as status_code,
        trim(nationality_code) as nationality_code,
        cast(residence_obligation as boolean) as has_residence_obligation,

        ---------- dates
        cast(arrival_date as date) as arrival_date,
        cast(status_valid_from as date) as status_valid_from,

        ---------- delivery
        delivery_month,
        cast(source_row as integer) as source_row

    from source

),

-- corrections: a record re-sent in a later delivery month replaces the earlier version
latest_delivery as (

    {{ keep_latest_delivery('renamed', 'event_ref') }}

),

status_codes as (

    select * from {{ ref('abh_residence_status') }}

),

nationality_codes as (

    select * from {{ ref('nationality_codes') }}

),

-- a postcode spanning two districts must not duplicate the row: take one district per postcode
postcode_districts as (

    select
        lower(city) as city,
        postcode,
        min(district) as district
    from {{ ref('postcode_districts') }}
    group by lower(city), postcode

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
        latest_delivery.postcode,
        postcode_districts.district,

        latest_delivery.status_code,
        status_codes.event_type,
        status_codes.legal_circle,
        latest_delivery.nationality_code,
        case
            when latest_delivery.nationality_code is null then 'staatenlos/ungeklärt'
            else coalesce(nationality_codes.nationality_group, 'Sonstige')
        end as nationality_group,
        latest_delivery.has_residence_obligation,

        latest_delivery.arrival_date,
        latest_delivery.status_valid_from,

        latest_delivery.delivery_month,
        latest_delivery.source_row

    from latest_delivery
    left join status_codes
        on latest_delivery.status_code = status_codes.status_code
    left join nationality_codes
        on latest_delivery.nationality_code = nationality_codes.destatis_code
    left join postcode_districts
        on latest_delivery.city = postcode_districts.city
        and latest_delivery.postcode = postcode_districts.postcode
    where latest_delivery.delivery_rank = 1

)

select * from final
