my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_json'; exec { $t } $t or die "cannot run test_json (did make build it?): $!\n";
