{{ config(
    materialized='incremental',
    incremental_strategy='replace_persons',
    on_schema_change='append_new_columns',
    tags=['person_incremental'],
) }}
-- depends_on: {{ ref('int_journey_build_mode') }}
-- depends_on: {{ ref('int_journey_changed_persons') }}
-- Per-person incremental (macros/person_incremental.sql): a monthly build rebuilds the changed persons only.

with

spells as (

    select * from {{ ref('int_spells_unioned') }}
    where {{ for_changed_persons() }}

),

final as (

    select
        person_key,
        source_agency,
        legal_circle,
        city,
        spell_start,
        spell_end
    from spells

)

select * from final
