# junction_add_connector(<target> <sources>...)
#
# Builds a connector library the way the Junction host expects it: a MODULE with hidden
# visibility, a version script that exports only jn_plugin_negotiate and jn_abi_tag, the
# C++ runtime linked statically (no C++ type crosses the ABI, so this is safe and frees the
# library from the host's libstdc++), every symbol resolved at link time (-z defs), and no
# GNU-unique symbols (they would make dlclose a no-op and share state between versions).

set(_JUNCTION_CONNECTOR_MAP "${CMAKE_CURRENT_LIST_DIR}/connector.map" CACHE INTERNAL
    "The version script every connector links with")

function(junction_add_connector target)
    add_library(${target} MODULE ${ARGN})
    target_link_libraries(${target} PRIVATE Junction::sdk)
    set_target_properties(${target} PROPERTIES
        PREFIX ""
        CXX_VISIBILITY_PRESET hidden
        C_VISIBILITY_PRESET hidden
        VISIBILITY_INLINES_HIDDEN ON
        POSITION_INDEPENDENT_CODE ON
        LINK_DEPENDS "${_JUNCTION_CONNECTOR_MAP}")
    target_compile_features(${target} PRIVATE cxx_std_17)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
        target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fno-gnu-unique>)
    endif()
    target_link_options(${target} PRIVATE
        "LINKER:--version-script=${_JUNCTION_CONNECTOR_MAP}"
        "LINKER:-z,defs"
        -static-libgcc
        $<$<LINK_LANGUAGE:CXX>:-static-libstdc++>)
endfunction()
