with

spells as (

    select * from {{ ref('int_spells_unioned') }}

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
