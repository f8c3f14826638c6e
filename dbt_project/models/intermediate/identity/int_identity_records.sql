{%- set identity_columns = [
    'azr_hash',
    'family_name_hash',
    'given_name_hash',
    'family_name_phonetic',
    'given_name_phonetic',
    'family_name_bloom',
    'given_name_bloom',
    'azr_bloom',
    'birth_year',
    'birth_date_hash',
    'birth_date_precision',
    'sex',
] -%}

{#- each agency's staging model (macros/delivery_incremental.sql: adding an agency adds an entry there) -#}
{%- set agency_models = agency_staging_models() -%}

{#- the agency that keeps the AZR register number by law; two of its records with different numbers
    are two persons, which linkage uses as a cannot-link constraint -#}
{%- set holds_register_number = {'abh': true, 'jobcenter': false, 'jugendamt': false} -%}

{#- each agency codes nationality its own way; linkage compares one code (ISO alpha-3) -#}
{%- set nationality_join = {
    'abh': ('nationality_code', 'destatis_code'),
    'jobcenter': ('nationality_code', 'iso_alpha3'),
    'jugendamt': ('nationality_name', 'country_name_de'),
} -%}

-- Delivery-incremental (macros/delivery_incremental.sql), per source record: a build recomputes the
-- identities of the records whose staged rows changed, found by a digest of each record's staged rows
-- (staged_rows_digest; macro records_whose_staged_rows_changed). An identity combines several staged
-- rows, so it cannot keep one delivery id as the staging models and the events do.
{{ delivery_incremental_model(
    unit=['agency', 'record_ref'],
    more_units=['records_whose_staged_rows_changed'],
) }}

with

nationality_codes as (

    select * from {{ ref('nationality_codes') }}

),

{% for agency, model in agency_models.items() %}
{{ agency }}_rows as (

    select
        '{{ agency }}' as agency,
        rows.city,
        rows.record_ref,
        rows.household_ref,
        {% for column in identity_columns %}rows.{{ column }},
        {% endfor %}nationality_codes.iso_alpha3 as nationality,
        {{ holds_register_number[agency] }} as azr_is_register,
        rows.district,
        rows.delivery_month,
        rows.source_row,
        {{ staged_row_hash('rows') }} as staged_row_hash
    from {{ ref(model) }} as rows
    left join nationality_codes
        on rows.{{ nationality_join[agency][0] }} = nationality_codes.{{ nationality_join[agency][1] }}
    where {{ for_replaced_units(["'" ~ agency ~ "'", 'rows.record_ref']) }}

),

{% endfor %}
unioned as (

    {% for agency in agency_models %}
    select * from {{ agency }}_rows
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

-- one identity per record and distinct combination of encodings: a record whose name or birth date
-- changed between rows (or deliveries) gives the linkage step every version it has seen. Household and
-- district may change without the identity changing: they come from the identity's latest row.
-- Grouped before the md5: the key is then computed once per identity (1.45 million) rather than once per
-- staged row (3.6 million at 1,000,000 persons), each over some 900 characters of Bloom filters. Grouping
-- on the values, not on the md5, puts the same rows together: the key's text of each column is its value
-- (one type per column, hashes and codes hold no '|'), and the unique test on identity_id would say so.
identities as (

    select
        {{ (['agency', 'record_ref'] + identity_columns + ['nationality']) | join(',\n        ') }},
        any_value(azr_is_register) as azr_is_register,
        -- (delivery_month, source_row) is unique within a record: one row per record and file row
        arg_max(
            struct_pack(city, household_ref, district, delivery_month),
            struct_pack(delivery_month, source_row)
        ) as latest,
        bit_xor(staged_row_hash) as staged_rows_digest
    from unioned
    group by all

),

final as (

    select
        {{ surrogate_key(['agency', 'record_ref'] + identity_columns + ['nationality']) }} as identity_id,
        agency,
        latest.city as city,
        record_ref,
        azr_hash,
        latest.household_ref as household_ref,
        family_name_hash,
        given_name_hash,
        family_name_phonetic,
        given_name_phonetic,
        family_name_bloom,
        given_name_bloom,
        azr_bloom,
        birth_year,
        birth_date_hash,
        birth_date_precision,
        sex,
        nationality,
        azr_is_register,
        latest.district as district,
        latest.delivery_month as delivery_month,
        staged_rows_digest
    from identities

)

select * from final
