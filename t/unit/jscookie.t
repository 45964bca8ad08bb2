my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_jscookie'; exec { $t } $t or die "cannot run test_jscookie (did make build it?): $!\n";
