{%- set identity_columns = [
    'azr_hash',
    'family_name_hash',
    'given_name_hash',
    'family_name_phonetic',
    'given_name_phonetic',
    'family_name_bloom',
    'given_name_bloom',
    'birth_year',
    'birth_date_hash',
    'birth_date_precision',
    'sex',
] -%}

{%- set agency_models = {
    'abh': 'stg_abh__residence_status',
    'jobcenter': 'stg_jobcenter__events',
    'jugendamt': 'stg_jugendamt__cases',
} -%}

with

{% for agency, model in agency_models.items() %}
{{ agency }}_rows as (

    select
        '{{ agency }}' as agency,
        city,
        record_ref,
        household_ref,
        {{ identity_columns | join(',\n        ') }},
        district,
        delivery_month,
        source_row
    from {{ ref(model) }}

),

{% endfor %}
unioned as (

    {% for agency in agency_models %}
    select * from {{ agency }}_rows
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

-- one identity per record and distinct combination of encodings: a record whose name or birth date
-- changed between rows (or deliveries) gives the linkage step every version it has seen
fingerprinted as (

    select
        {{ surrogate_key(['agency', 'record_ref'] + identity_columns) }} as identity_id,
        *
    from unioned

),

-- household and district may change without the identity changing: take them from the latest row
ranked as (

    select
        *,
        row_number() over (
            partition by identity_id
            order by delivery_month desc, source_row desc
        ) as recency_rank
    from fingerprinted

),

final as (

    select
        identity_id,
        agency,
        city,
        record_ref,
        azr_hash,
        household_ref,
        family_name_hash,
        given_name_hash,
        family_name_phonetic,
        given_name_phonetic,
        family_name_bloom,
        given_name_bloom,
        birth_year,
        birth_date_hash,
        birth_date_precision,
        sex,
        district,
        delivery_month
    from ranked
    where recency_rank = 1

)

select * from final
