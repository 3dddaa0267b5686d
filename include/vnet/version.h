/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file version.h
 * @brief The vnet version: the one place it is set (CMakeLists.txt reads
 * it for project(vnet VERSION ...)).
 *
 * Semantic versioning: a new MAJOR breaks the API or ABI, a new MINOR adds
 * to it, a new PATCH only fixes. While MAJOR is 0, a new MINOR may break.
 * vnet_version() gives the version the library was built as.
 */
#ifndef VNET_VERSION_H
#define VNET_VERSION_H

/** Major version: changes when the API or ABI breaks. */
#define VNET_VERSION_MAJOR 0
/** Minor version: changes when the API grows. */
#define VNET_VERSION_MINOR 1
/** Patch version: changes for fixes only. */
#define VNET_VERSION_PATCH 0
/** The version as a string, "MAJOR.MINOR.PATCH" (what vnet_version() returns). */
#define VNET_VERSION_STRING "0.1.0"
/** The version as one comparable number: (MAJOR << 16) | (MINOR << 8) | PATCH. */
#define VNET_VERSION_NUMBER ((0 << 16) | (1 << 8) | 0)

#endif
