my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_json_read'; exec { $t } $t or die "cannot run test_json_read (did make build it?): $!\n";
