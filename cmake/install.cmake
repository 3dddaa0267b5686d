# SPDX-License-Identifier: BSD-3-Clause
# vnet as a library for other projects: `cmake --install`, a
# pkg-config file per library, the CMake package vnet (find_package), the
# generated <vnet/version.h>, and the `docs` target. Included at the end of
# the top-level CMakeLists.txt, once every target exists.
#
#   cmake --install build [--prefix DIR]          (DESTDIR=... is honoured)
#
# Host (Linux) build, under the prefix (GNUInstallDirs: LIBDIR is lib, or
# lib/<multiarch> for the /usr prefix on Debian):
#   LIBDIR/libvnet.a, libvnet_model.a, libvnet_lwip.a, libvnet_iface.a
#   LIBDIR/libvnet.so.<soversion> (VNET_SHARED)
#   LIBDIR/pkgconfig/vnet.pc, vnet-model.pc, vnet-lwip.pc, vnet-iface.pc
#   LIBDIR/cmake/vnet/       vnet::vnet vnet::shared vnet::model vnet::lwip vnet::iface
#   include/vnet/*.h, include/vnet/version.h (generated)
#   include/vnet/lwip/       lwIP 2.1.3's headers, lwipopts.h, arch/cc.h:
#                            the configuration libvnet_lwip was built with
#   bin/vnet-bench, share/man/man1/vnet-bench.1, share/doc/vnet/
# Bare-metal build (cmake/toolchain-<cpu>-baremetal.cmake), laid out so
# that it and the host build (and other CPUs) can share one prefix:
#   LIBDIR/vnet/<cpu>-baremetal/    libvnet.a libvnet_lwip.a libvnet_iface.a
#       libvnet_arch.a libvnet_libc.a linker.ld
#       cmake/toolchain-<cpu>-baremetal.cmake    (the build's toolchain file)
#       lib/libc/include/                        (the freestanding libc's
#                                    headers, where that toolchain looks)
#   LIBDIR/cmake/vnet/       vnet::vnet vnet::lwip vnet::iface vnet::arch
#                            vnet::libc and vnet_baremetal_image()
#   include/vnet/*.h, include/vnet/lwip/   (as for the host)

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# ---- version: project(vnet VERSION ...) is the one place it is set -------
if(NOT PROJECT_VERSION MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+$")
  message(FATAL_ERROR "project(vnet VERSION ...) must be MAJOR.MINOR.PATCH, not '${PROJECT_VERSION}'")
endif()
set(VNET_GENERATED_INCLUDE_DIR ${PROJECT_BINARY_DIR}/include)
configure_file(${PROJECT_SOURCE_DIR}/include/vnet/version.h ${VNET_GENERATED_INCLUDE_DIR}/vnet/version.h COPYONLY)

# ---- libvnet.so -----------------------------------------------------------
# The same sources and options as the static libvnet, compiled again with
# -fPIC (the static library stays non-PIC for the fast path). Every global
# symbol of libvnet already carries the vnet_ prefix. Off in sanitizer and
# fuzzing builds, which are for tests, not for installing.
if(NOT VNET_BAREMETAL AND TARGET vnet)
  if(VNET_SANITIZE OR VNET_FUZZ)
    set(_vnet_shared_default OFF)
  else()
    set(_vnet_shared_default ON)
  endif()
  option(VNET_SHARED "Also build and install libvnet.so (host build)" ${_vnet_shared_default})
endif()
if(VNET_SHARED AND NOT VNET_BAREMETAL AND TARGET vnet)
  get_target_property(_vnet_srcs vnet SOURCES)
  add_library(vnet_shared SHARED ${_vnet_srcs})
  foreach(p INCLUDE_DIRECTORIES COMPILE_OPTIONS COMPILE_DEFINITIONS LINK_LIBRARIES
            INTERFACE_INCLUDE_DIRECTORIES INTERFACE_COMPILE_DEFINITIONS INTERFACE_LINK_LIBRARIES)
    get_target_property(v vnet ${p})
    if(p STREQUAL "INTERFACE_LINK_LIBRARIES" AND v)
      # a static library's private dependencies: linked into the .so instead
      list(FILTER v EXCLUDE REGEX "^\\$<LINK_ONLY:")
    endif()
    if(v)
      set_property(TARGET vnet_shared PROPERTY ${p} "${v}")
    endif()
  endforeach()
  # While MAJOR is 0 a new MINOR may break the ABI: the soname carries it.
  if(PROJECT_VERSION_MAJOR EQUAL 0)
    set(_vnet_soversion 0.${PROJECT_VERSION_MINOR})
  else()
    set(_vnet_soversion ${PROJECT_VERSION_MAJOR})
  endif()
  set_target_properties(vnet_shared PROPERTIES OUTPUT_NAME vnet EXPORT_NAME shared
    VERSION ${PROJECT_VERSION} SOVERSION ${_vnet_soversion})
  if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
    # calls inside the library need not go through the PLT
    target_compile_options(vnet_shared PRIVATE -fno-semantic-interposition)
  endif()
  target_link_options(vnet_shared PRIVATE -Wl,-z,defs -Wl,--as-needed)
endif()

# ---- targets, as the package names them ----------------------------------
# vnet::vnet vnet::model vnet::lwip vnet::iface (vnet::shared; vnet::arch vnet::libc on
# bare metal): the same names for a project that add_subdirectory()s vnet.
set(VNET_INSTALL_TARGETS)
foreach(t vnet vnet_shared vnet_model vnet_lwip vnet_iface vnet_arch vnet_libc)
  if(TARGET ${t})
    list(APPEND VNET_INSTALL_TARGETS ${t})
    string(REGEX REPLACE "^vnet_" "" _export ${t})
    if(NOT t STREQUAL "vnet_shared")
      set_target_properties(${t} PROPERTIES EXPORT_NAME ${_export})
    endif()
    get_target_property(_export ${t} EXPORT_NAME)
    if(NOT _export)
      set(_export ${t})
    endif()
    add_library(vnet::${_export} ALIAS ${t})
  endif()
endforeach()

if(VNET_BAREMETAL)
  set(VNET_BM_DIR ${CMAKE_INSTALL_LIBDIR}/vnet/${CMAKE_SYSTEM_PROCESSOR}-baremetal)
  set(VNET_LIBC_INSTALL_INCLUDEDIR ${VNET_BM_DIR}/lib/libc/include)
  set(VNET_ARCHIVE_DIR ${VNET_BM_DIR})
  set(VNET_TARGETS_FILE vnetBaremetal-${CMAKE_SYSTEM_PROCESSOR}Targets.cmake)
else()
  set(VNET_ARCHIVE_DIR ${CMAKE_INSTALL_LIBDIR})
  set(VNET_TARGETS_FILE vnetTargets.cmake)
endif()
set(VNET_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/vnet)
set(VNET_LWIP_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/vnet/lwip)

# The libraries name their include directories by source path (lwip.cmake,
# lib/arch/x86_64). An exported target must not: each such directory is
# wrapped in $<BUILD_INTERFACE:...> and given its installed counterpart
# here; one this table does not know stops the configuration, so that a
# new public include directory is not silently left out of the install.
# Entries already written with $<BUILD_INTERFACE:...> are kept as they are.
# The generated include directory (version.h) joins the source one.
function(vnet_install_interface_includes target)
  set(map
    "${PROJECT_SOURCE_DIR}/include" "${CMAKE_INSTALL_INCLUDEDIR}"
    "${PROJECT_SOURCE_DIR}/lib/lwip/include" "${VNET_LWIP_INSTALL_INCLUDEDIR}"
    "${LWIP_DIR}/src/include" "${VNET_LWIP_INSTALL_INCLUDEDIR}"
    "${PROJECT_SOURCE_DIR}/lib/libc/include" "${VNET_LIBC_INSTALL_INCLUDEDIR}"
    "${VNET_GENERATED_INCLUDE_DIR}" "${CMAKE_INSTALL_INCLUDEDIR}")
  foreach(prop INTERFACE_INCLUDE_DIRECTORIES INTERFACE_SYSTEM_INCLUDE_DIRECTORIES)
    get_target_property(dirs ${target} ${prop})
    if(NOT dirs)
      continue()
    endif()
    set(out)
    foreach(d IN LISTS dirs)
      if(d MATCHES "\\$<")
        list(APPEND out "${d}")
        if(d MATCHES "^\\$<BUILD_INTERFACE:(.*)>$")
          cmake_path(NORMAL_PATH CMAKE_MATCH_1 OUTPUT_VARIABLE nd)
          if(nd STREQUAL "${PROJECT_SOURCE_DIR}/include")
            list(APPEND out "$<BUILD_INTERFACE:${VNET_GENERATED_INCLUDE_DIR}>")
          endif()
        endif()
        continue()
      endif()
      cmake_path(NORMAL_PATH d OUTPUT_VARIABLE nd)
      set(inst)
      set(i 0)
      list(LENGTH map n)
      while(i LESS n)
        list(GET map ${i} from)
        math(EXPR j "${i} + 1")
        list(GET map ${j} to)
        cmake_path(NORMAL_PATH from)
        if(nd STREQUAL from AND to)
          set(inst "${to}")
          break()
        endif()
        math(EXPR i "${i} + 2")
      endwhile()
      if(inst AND prop STREQUAL "INTERFACE_SYSTEM_INCLUDE_DIRECTORIES")
        # install(EXPORT) leaves relative paths here as they are; imported
        # include directories are system ones anyway
        list(APPEND out "$<BUILD_INTERFACE:${d}>")
      elseif(inst)
        list(APPEND out "$<BUILD_INTERFACE:${d}>" "$<INSTALL_INTERFACE:${inst}>")
        if(nd STREQUAL "${PROJECT_SOURCE_DIR}/include")
          list(APPEND out "$<BUILD_INTERFACE:${VNET_GENERATED_INCLUDE_DIR}>")
        endif()
      else()
        foreach(tree "${PROJECT_SOURCE_DIR}" "${PROJECT_BINARY_DIR}" "${LWIP_DIR}")
          cmake_path(IS_PREFIX tree "${nd}" NORMALIZE inside)
          if(inside)
            message(FATAL_ERROR "cmake/install.cmake: ${target} exports the include directory ${d}: "
                                "add where it installs to vnet_install_interface_includes()")
          endif()
        endforeach()
        list(APPEND out "${d}")
      endif()
    endforeach()
    list(REMOVE_DUPLICATES out)
    set_property(TARGET ${target} PROPERTY ${prop} "${out}")
  endforeach()
endfunction()
# lwip.cmake links the driver as $<TARGET_NAME_IF_EXISTS:vnet> (it is
# defined later); an exported target needs the plain name, which install()
# then writes as vnet::vnet.
function(vnet_install_interface_links target)
  get_target_property(links ${target} INTERFACE_LINK_LIBRARIES)
  if(NOT links)
    return()
  endif()
  set(out)
  foreach(l IN LISTS links)
    if(l MATCHES "^\\$<TARGET_NAME_IF_EXISTS:([^>]+)>$")
      if(TARGET ${CMAKE_MATCH_1})
        list(APPEND out ${CMAKE_MATCH_1})
      endif()
    else()
      list(APPEND out "${l}")
    endif()
  endforeach()
  set_property(TARGET ${target} PROPERTY INTERFACE_LINK_LIBRARIES "${out}")
endfunction()

foreach(t ${VNET_INSTALL_TARGETS})
  vnet_install_interface_includes(${t})
  vnet_install_interface_links(${t})
  # The library's own sources find <vnet/version.h> too.
  target_include_directories(${t} PRIVATE ${VNET_GENERATED_INCLUDE_DIR})
endforeach()

# ---- install rules ---------------------------------------------------------
install(TARGETS ${VNET_INSTALL_TARGETS} EXPORT vnetTargets
  ARCHIVE DESTINATION ${VNET_ARCHIVE_DIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT vnetTargets NAMESPACE vnet:: FILE ${VNET_TARGETS_FILE} DESTINATION ${VNET_CMAKE_DIR})

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/vnet/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/vnet
  FILES_MATCHING PATTERN "*.h")
install(FILES ${VNET_GENERATED_INCLUDE_DIR}/vnet/version.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/vnet)
if(TARGET vnet_lwip)
  # What a user of vnet::lwip (lwIP's raw API, lwiperf) compiles against: it
  # must be the configuration the library was built with.
  install(DIRECTORY ${LWIP_DIR}/src/include/lwip ${LWIP_DIR}/src/include/netif
    DESTINATION ${VNET_LWIP_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.h" PATTERN "ppp" EXCLUDE)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/lib/lwip/include/ DESTINATION ${VNET_LWIP_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.h")
  if(EXISTS ${LWIP_DIR}/COPYING)
    install(FILES ${LWIP_DIR}/COPYING DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME lwip.COPYING)
  endif()
endif()
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})
if(EXISTS ${PROJECT_SOURCE_DIR}/CHANGELOG.md)
  install(FILES ${PROJECT_SOURCE_DIR}/CHANGELOG.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()

if(VNET_BAREMETAL)
  install(FILES ${VNET_LINKER_SCRIPT} DESTINATION ${VNET_BM_DIR})
  # The toolchain file finds the C library's headers at ../lib/libc/include,
  # as in the source tree: installed as it is, it works from here too.
  if(CMAKE_TOOLCHAIN_FILE)
    install(FILES ${CMAKE_TOOLCHAIN_FILE} DESTINATION ${VNET_BM_DIR}/cmake)
  endif()
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/lib/libc/include/ DESTINATION ${VNET_LIBC_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.h")
else()
  if(TARGET vnet-bench)
    install(TARGETS vnet-bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
    install(FILES ${PROJECT_SOURCE_DIR}/docs/vnet-bench.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  endif()

  # pkg-config: written at install time, so that --prefix given to
  # `cmake --install` lands in them (and DESTDIR does not).
  set(VNET_PC_REQUIRES_PRIVATE)
  set(VNET_PC_LIBS_PRIVATE)
  get_target_property(_vnet_links vnet LINK_LIBRARIES)
  foreach(l IN LISTS _vnet_links)
    string(TOLOWER "${l}" _l)
    if(_l MATCHES "pciaccess")
      list(APPEND VNET_PC_REQUIRES_PRIVATE pciaccess)
    elseif(l MATCHES "^-l|^(m|rt|dl|pthread)$")
      string(REGEX REPLACE "^-l" "" l "${l}")
      list(APPEND VNET_PC_LIBS_PRIVATE "-l${l}")
    endif()
  endforeach()
  # whole lines of vnet.pc, or nothing
  set(VNET_PC_PRIVATE)
  if(VNET_PC_REQUIRES_PRIVATE)
    list(REMOVE_DUPLICATES VNET_PC_REQUIRES_PRIVATE)
    list(JOIN VNET_PC_REQUIRES_PRIVATE ", " _l)
    string(APPEND VNET_PC_PRIVATE "Requires.private: ${_l}\n")
  endif()
  if(VNET_PC_LIBS_PRIVATE)
    list(JOIN VNET_PC_LIBS_PRIVATE " " _l)
    string(APPEND VNET_PC_PRIVATE "Libs.private: ${_l}\n")
  endif()
  set(VNET_PC_LWIP_CFLAGS)
  if(VNET_LWIP_DIAG)
    set(VNET_PC_LWIP_CFLAGS "-DVNET_LWIP_DIAG=1")
  endif()
  set(VNET_PC_FILES vnet)
  if(TARGET vnet_model)
    list(APPEND VNET_PC_FILES vnet-model)
  endif()
  if(TARGET vnet_iface)
    list(APPEND VNET_PC_FILES vnet-lwip vnet-iface)
  endif()
  install(CODE "
    set(_vnet_pc_files [==[${VNET_PC_FILES}]==])
    set(_vnet_pc_src [==[${CMAKE_CURRENT_LIST_DIR}]==])
    set(_vnet_pc_out [==[${PROJECT_BINARY_DIR}/pkgconfig]==])
    set(_vnet_pc_libdir [==[${CMAKE_INSTALL_LIBDIR}]==])
    set(_vnet_pc_incdir [==[${CMAKE_INSTALL_INCLUDEDIR}]==])
    set(VNET_VERSION [==[${PROJECT_VERSION}]==])
    set(VNET_PC_PRIVATE [==[${VNET_PC_PRIVATE}]==])
    set(VNET_PC_LWIP_CFLAGS [==[${VNET_PC_LWIP_CFLAGS}]==])")
  install(CODE [==[
    set(prefix "${CMAKE_INSTALL_PREFIX}")
    foreach(_d libdir incdir)
      if(IS_ABSOLUTE "${_vnet_pc_${_d}}")
        set(pc_${_d} "${_vnet_pc_${_d}}")
      else()
        string(CONCAT pc_${_d} [[${prefix}/]] "${_vnet_pc_${_d}}")
      endif()
    endforeach()
    foreach(_pc IN LISTS _vnet_pc_files)
      configure_file("${_vnet_pc_src}/${_pc}.pc.in" "${_vnet_pc_out}/${_pc}.pc" @ONLY)
    endforeach()
  ]==])
  list(TRANSFORM VNET_PC_FILES PREPEND ${PROJECT_BINARY_DIR}/pkgconfig/)
  list(TRANSFORM VNET_PC_FILES APPEND .pc)
  install(FILES ${VNET_PC_FILES} DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()

# ---- the CMake package -----------------------------------------------------
# vnetConfig.cmake loads the bare-metal targets of the consumer's
# CMAKE_SYSTEM_PROCESSOR when its CMAKE_SYSTEM_NAME is Generic, the host
# ones otherwise. It is the same file from every build, so that installs can
# share a prefix; what differs lives next to each targets file: the
# pkg-config modules behind PkgConfig:: targets the exported ones link
# ("PREFIX=module" pairs; e.g. libpciaccess), in vnet[Baremetal-<cpu>]Deps.cmake.
set(VNET_PKG_DEPS)
foreach(t ${VNET_INSTALL_TARGETS})
  get_target_property(_links ${t} INTERFACE_LINK_LIBRARIES)
  get_target_property(_plinks ${t} LINK_LIBRARIES)
  foreach(l IN LISTS _links _plinks)
    if(l MATCHES "PkgConfig::([A-Za-z0-9_]+)")
      set(p ${CMAKE_MATCH_1})
      if(p MATCHES "[Pp][Cc][Ii][Aa][Cc][Cc][Ee][Ss][Ss]")
        set(m pciaccess)
      else()
        string(TOLOWER ${p} m)
      endif()
      list(APPEND VNET_PKG_DEPS "${p}=${m}")
    endif()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES VNET_PKG_DEPS)
string(REGEX REPLACE "Targets\\.cmake$" "Deps.cmake" _vnet_deps_file ${VNET_TARGETS_FILE})
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/cmake/${_vnet_deps_file}
  CONTENT "# pkg-config modules the exported targets need (cmake/install.cmake)\nset(_vnet_pkg_deps \"@VNET_PKG_DEPS@\")\n"
  @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cmake/${_vnet_deps_file} DESTINATION ${VNET_CMAKE_DIR})
set(VNET_LIBDIR_INSTALL ${CMAKE_INSTALL_LIBDIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/vnetConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/vnetConfig.cmake
  INSTALL_DESTINATION ${VNET_CMAKE_DIR}
  PATH_VARS VNET_LIBDIR_INSTALL)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/vnetConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/vnetConfig.cmake ${PROJECT_BINARY_DIR}/cmake/vnetConfigVersion.cmake
  DESTINATION ${VNET_CMAKE_DIR})

# ---- API reference (Doxygen) -------------------------------------------------
# `cmake --build build --target docs`: HTML in build/docs/html. The api_docs
# test (tests/install) runs the same check and fails on any warning, such
# as an undocumented public symbol.
find_program(DOXYGEN_EXECUTABLE doxygen)
if(DOXYGEN_EXECUTABLE)
  add_custom_target(docs
    COMMAND ${PROJECT_SOURCE_DIR}/docs/check-docs.sh --doxygen ${DOXYGEN_EXECUTABLE}
            ${PROJECT_BINARY_DIR}/docs ${VNET_GENERATED_INCLUDE_DIR}/vnet/version.h
    COMMENT "Doxygen API reference in ${PROJECT_BINARY_DIR}/docs/html"
    VERBATIM)
endif()
