my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_stream'; exec { $t } $t or die "cannot run test_stream (did make build it?): $!\n";
