-- Per-person incremental (macros/person_incremental.sql): a monthly build rebuilds the changed persons only.
{{ person_incremental_model() }}

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
