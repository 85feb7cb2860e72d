//! abitare: a spatially indexed model of the public and private housing stock of a Lombard
//! Ambito territoriale, built from the inputs its offices really receive (cadastral GML, PGT
//! shapefiles, the public-housing inventory), with the analyses and outputs the Tavolo Abitare,
//! PGT drafters and analysts need.
//!
//! Data flows one way: [`ingest`] → [`model`] + [`index`] → [`analysis`] → [`output`] →
//! [`pipeline`], [`server`] and the CLI; [`demo`] writes real-format input files and then goes
//! through the same path. See ARCHITECTURE.md.

pub mod analysis;
pub mod atomic;
pub mod auth;
pub mod crs;
pub mod demo;
pub mod index;
pub mod ingest;
pub mod italiano;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod project;
pub mod server;
