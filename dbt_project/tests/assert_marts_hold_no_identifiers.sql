-- Privacy by construction: no mart column may carry a record or event reference, an AZR hash, a name or
-- birth-date encoding, an address or postcode. Marts hold a person_key and coarse attributes only.
-- depends_on: {{ ref('person_journey') }}
-- depends_on: {{ ref('person_spells') }}
-- depends_on: {{ ref('person_milestones') }}
-- depends_on: {{ ref('kpi_persons_by_agency') }}
-- depends_on: {{ ref('kpi_legal_circle_stock') }}
-- depends_on: {{ ref('kpi_sgb2_transitions') }}
-- depends_on: {{ ref('kpi_time_to_milestones') }}
-- depends_on: {{ ref('kpi_profile_mix') }}
-- depends_on: {{ ref('kpi_youth_care') }}
-- depends_on: {{ ref('kpi_youth_follow_up') }}

select
    table_name,
    column_name
from information_schema.columns
where lower(table_schema) = 'marts'
    and (
        lower(column_name) like '%\_ref' escape '\'
        or lower(column_name) like '%azr%'
        or lower(column_name) like '%hash%'
        or lower(column_name) like '%phonetic%'
        or lower(column_name) like '%bloom%'
        or lower(column_name) like '%name%'
        or lower(column_name) like '%postcode%'
        or lower(column_name) like '%address%'
        or lower(column_name) in ('identity_id', 'birth_date', 'household')
    )
