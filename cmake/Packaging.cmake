# Debian packages with CPack: one per component, dependencies found by dpkg-shlibdeps.
#   egress-agent   /usr/sbin/egress-agent, the systemd unit, /etc/egress-gateway/agent.yaml
#                  (conffile), /var/lib/egress-gateway, egress-agent(8), example configs
#   egress-console /usr/bin/egress-console, desktop entry, icon, egress-console(1)
#   egressctl      /usr/bin/egressctl, bash completion, egressctl(1)
# `make package` (or `cpack -G DEB` in the build dir) writes the three .deb files into
# ${CMAKE_BINARY_DIR}/packages. The binaries' install(TARGETS) rules sit next to the targets.
include(GNUInstallDirs)

set(EGW_PKG_STAGE ${CMAKE_BINARY_DIR}/packaging)

# Man pages: the version filled in, gzip -9n (reproducible: no name or time in the header).
set(EGW_MAN_PAGES egress-agent.8:agent egress-console.1:console egressctl.1:ctl)
set(EGW_MAN_OUTPUTS)
foreach(entry IN LISTS EGW_MAN_PAGES)
  string(REPLACE ":" ";" parts ${entry})
  list(GET parts 0 page)
  list(GET parts 1 component)
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${page})
  configure_file(${PROJECT_SOURCE_DIR}/resources/man/${page} ${EGW_PKG_STAGE}/man/${page} @ONLY)
  add_custom_command(OUTPUT ${EGW_PKG_STAGE}/man/${page}.gz
    COMMAND gzip -9nc ${EGW_PKG_STAGE}/man/${page} > ${EGW_PKG_STAGE}/man/${page}.gz
    DEPENDS ${EGW_PKG_STAGE}/man/${page} VERBATIM)
  list(APPEND EGW_MAN_OUTPUTS ${EGW_PKG_STAGE}/man/${page}.gz)
  install(FILES ${EGW_PKG_STAGE}/man/${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section} COMPONENT ${component})
endforeach()
add_custom_target(egw_man_pages ALL DEPENDS ${EGW_MAN_OUTPUTS})

# /etc/egress-gateway/agent.yaml: the documented example with the TLS files under tls/ (the
# Kubernetes Secret and the README use the same layout). Regenerated when the example changes.
set(EGW_EXAMPLE_CONFIG ${PROJECT_SOURCE_DIR}/resources/examples/agent.yaml)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${EGW_EXAMPLE_CONFIG})
file(READ ${EGW_EXAMPLE_CONFIG} egw_config)
foreach(f ca cert key)
  string(REGEX REPLACE "\n(  ${f}: )([a-z-]+\\.pem)" "\n\\1tls/\\2" egw_config "${egw_config}")
endforeach()
file(WRITE ${EGW_PKG_STAGE}/agent.yaml
  "# Installed by the egress-agent package as an example: edit it for this node (node.*, listen.*,\n"
  "# voters, policies), check it with `egress-agent --config /etc/egress-gateway/agent.yaml --check`,\n"
  "# then `systemctl enable --now egress-agent`. Every key: man egress-agent.\n${egw_config}")

# egress-agent (absolute destinations: /etc, /var and /lib are not under the /usr prefix)
install(FILES resources/systemd/egress-agent.service DESTINATION /lib/systemd/system COMPONENT agent)
install(FILES ${EGW_PKG_STAGE}/agent.yaml DESTINATION /etc/egress-gateway COMPONENT agent)
install(DIRECTORY DESTINATION /var/lib/egress-gateway COMPONENT agent)
install(FILES resources/examples/agent.yaml resources/examples/observer.yaml resources/examples/virtual-ip.yaml
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/egress-agent/examples COMPONENT agent)
# egress-console
install(FILES resources/desktop/egress-console.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications COMPONENT console)
install(FILES resources/icons/egress-console.png DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/64x64/apps COMPONENT console)
# egressctl
install(FILES resources/completion/egressctl.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  RENAME egressctl COMPONENT ctl)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME egress-gateway)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Egress Gateway")
set(CPACK_PACKAGE_CONTACT "Egress Gateway maintainers <egress-gateway@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL agent console ctl)
if(NOT TARGET egress-console)  # EGW_BUILD_CONSOLE=OFF: two packages
  list(REMOVE_ITEM CPACK_COMPONENTS_ALL console)
endif()

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/egress-gateway/egress-gateway")
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)

set(CPACK_DEBIAN_AGENT_PACKAGE_NAME egress-agent)
set(CPACK_DEBIAN_AGENT_DESCRIPTION "Egress gateway agent: elects an egress master, programs nftables SNAT
 egress-agent runs on every node: the egress nodes elect one master (Raft-style election with
 pre-vote, check-quorum and kernel-fenced leases); every node marks selected traffic with
 nftables and policy-routes it to the master, which SNATs it to an allowlisted IP.")
set(CPACK_DEBIAN_AGENT_PACKAGE_SECTION net)
# Not libraries, so beyond dpkg-shlibdeps: the unit's ExecReload runs /bin/kill (procps), the
# postinst creates the user with useradd (passwd).
set(CPACK_DEBIAN_AGENT_PACKAGE_DEPENDS "procps, passwd")
set(CPACK_DEBIAN_AGENT_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/resources/debian/egress-agent/conffiles
  ${PROJECT_SOURCE_DIR}/resources/debian/egress-agent/postinst
  ${PROJECT_SOURCE_DIR}/resources/debian/egress-agent/prerm
  ${PROJECT_SOURCE_DIR}/resources/debian/egress-agent/postrm)
set(CPACK_DEBIAN_AGENT_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_CONSOLE_PACKAGE_NAME egress-console)
set(CPACK_DEBIAN_CONSOLE_DESCRIPTION "Egress gateway desktop console (Qt)
 Nodes, master, failover events, traffic charts and allowlist drift of an egress gateway
 cluster; planned handover, candidacy and an add-node wizard.")
set(CPACK_DEBIAN_CONSOLE_PACKAGE_SECTION net)
# Qt loads its platform plugin (xcb/wayland) with dlopen: dpkg-shlibdeps cannot see it.
set(CPACK_DEBIAN_CONSOLE_PACKAGE_DEPENDS "qt6-qpa-plugins")

set(CPACK_DEBIAN_CTL_PACKAGE_NAME egressctl)
set(CPACK_DEBIAN_CTL_DESCRIPTION "Egress gateway command-line client
 Status, events, allowlist export and drift, candidacy and handover of an egress gateway
 cluster, for scripts and terminals.")
set(CPACK_DEBIAN_CTL_PACKAGE_SECTION net)

# What `make package` builds before cpack (cpack itself only installs).
add_custom_target(egw_packaged DEPENDS egress-agent egressctl egw_man_pages)
if(TARGET egress-console)
  add_dependencies(egw_packaged egress-console)
endif()

include(CPack)
cpack_add_component(agent DISPLAY_NAME "egress-agent")
cpack_add_component(console DISPLAY_NAME "egress-console")
cpack_add_component(ctl DISPLAY_NAME "egressctl")
